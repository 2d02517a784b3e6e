import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from services.loan_intake.models.base import IntakeModel
from shared.clock import utcnow
from shared.db import JSONType, UTCDateTime


class ApplicationStatus(StrEnum):
    SUBMITTED = "submitted"
    ASSESSING = "assessing"
    ELIGIBLE = "eligible"
    INELIGIBLE = "ineligible"
    REFERRED = "referred"
    # The bureau asked the firm for more (退回补充材料); its answer goes back to the reviewer.
    RETURNED = "returned"
    ALLOCATED = "allocated"
    BANK_REVIEWING = "bank_reviewing"
    APPROVED = "approved"
    DECLINED = "declined"
    DISBURSED = "disbursed"
    REPAYING = "repaying"
    SETTLED = "settled"
    OVERDUE = "overdue"
    DEFAULTED = "defaulted"
    CLAIMED = "claimed"
    COMPENSATED = "compensated"
    RECOVERING = "recovering"
    CLOSED = "closed"
    WRITTEN_OFF = "written_off"
    WITHDRAWN = "withdrawn"
    # Lent, but the fund refused its 备案: not in the guarantee scheme.
    UNGUARANTEED = "unguaranteed"


STATUS_LABELS_ZH: dict[ApplicationStatus, str] = {
    ApplicationStatus.SUBMITTED: "已提交",
    ApplicationStatus.ASSESSING: "评估中",
    ApplicationStatus.ELIGIBLE: "符合条件",
    ApplicationStatus.INELIGIBLE: "不符合条件",
    ApplicationStatus.REFERRED: "待人工复核",
    ApplicationStatus.RETURNED: "待补充材料",
    ApplicationStatus.ALLOCATED: "已分配批次",
    ApplicationStatus.BANK_REVIEWING: "银行审批中",
    ApplicationStatus.APPROVED: "银行已批准",
    ApplicationStatus.DECLINED: "银行已拒绝",
    ApplicationStatus.DISBURSED: "已放款",
    ApplicationStatus.REPAYING: "还款中",
    ApplicationStatus.SETTLED: "已结清",
    ApplicationStatus.OVERDUE: "逾期",
    ApplicationStatus.DEFAULTED: "违约",
    ApplicationStatus.CLAIMED: "已申请代偿",
    ApplicationStatus.COMPENSATED: "已代偿",
    ApplicationStatus.RECOVERING: "追偿中",
    ApplicationStatus.CLOSED: "已关闭",
    ApplicationStatus.WRITTEN_OFF: "已核销",
    ApplicationStatus.WITHDRAWN: "已撤回",
    ApplicationStatus.UNGUARANTEED: "未获担保",
}


class Application(IntakeModel, table=True):
    __tablename__ = "applications"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    # The register's running number, shown as QP-2026-000123 (applications/words.py): given by
    # the database on insert — a sequence on PostgreSQL, max + 1 in SQLite's single writer.
    number: int | None = Field(default=None, sa_type=sa.BigInteger, unique=True)
    enterprise_id: int = Field(foreign_key="enterprises.id", index=True)
    # Denormalised so a tenant's list is one indexed query.
    enterprise_uscc: str = Field(max_length=18, index=True)
    enterprise_snapshot: dict[str, Any] = Field(sa_type=JSONType)
    amount_fen: int = Field(sa_type=sa.BigInteger)
    term_months: int
    purpose: str = Field(max_length=500)
    preferred_bank: str | None = Field(default=None, max_length=100)
    status: str = Field(max_length=20, index=True)
    decision: str | None = Field(default=None, max_length=20)
    score: int | None = None
    reasons: list[dict[str, Any]] | None = Field(default=None, sa_type=JSONType)
    terms: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    assessment_id: uuid.UUID | None = None
    policy_version_id: uuid.UUID | None = None
    policy_name: str | None = Field(default=None, max_length=200)
    submitted_by: str = Field(max_length=200)
    # The portal account that submitted it (None: by API, or by the bank): what an
    # unverified account may see.
    account_id: int | None = Field(default=None, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    assessed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
