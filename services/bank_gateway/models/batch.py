import uuid
from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field

from services.bank_gateway.models.base import GatewayModel
from shared.clock import utcnow
from shared.db import UTCDateTime


class BatchStatus(StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    OPEN = "open"
    SUSPENDED = "suspended"
    CLOSED = "closed"


BATCH_STATUS_ZH = {
    BatchStatus.DRAFT: "草稿",
    BatchStatus.PENDING_APPROVAL: "待审批",
    BatchStatus.APPROVED: "已批准",
    BatchStatus.OPEN: "已开放",
    BatchStatus.SUSPENDED: "已暂停",
    BatchStatus.CLOSED: "已关闭",
}


class Batch(GatewayModel, table=True):
    """A batch quota (批次额度) for one bank, under one policy version's terms."""

    __tablename__ = "batches"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    bank_id: uuid.UUID = Field(foreign_key="partner_banks.id", index=True)
    name: str = Field(max_length=200)
    quota_fen: int = Field(sa_type=sa.BigInteger)
    # Kept by one conditional UPDATE per allocation: the quota is never exceeded even when
    # allocations race (batches/repository.py: reserve_quota).
    allocated_fen: int = Field(default=0, sa_type=sa.BigInteger)
    valid_from: date
    valid_to: date
    policy_version_id: uuid.UUID
    # Snapshot of the policy version's batch risk parameters, taken when drafted.
    policy_version: int = 0
    warning_loss_rate: str = Field(default="0.0300", max_length=12)
    suspension_loss_rate: str = Field(default="0.0400", max_length=12)
    compensation_ceiling: str = Field(default="0.0500", max_length=12)
    ceiling_base: str = Field(default="filed_principal", max_length=20)
    auto_resume: bool = False
    # And its limits on a bank's figures (ledger/rules.py: Bounds).
    penalty_interest_markup: str = Field(default="0.50", max_length=12)
    maturity_grace_days: int = 31
    status: str = Field(max_length=20, index=True)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    submitted_by: str | None = Field(default=None, max_length=200)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    approved_by: str | None = Field(default=None, max_length=200)
    approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
