import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlmodel import Field

from services.guarantee.models.base import GuaranteeModel
from shared.clock import utcnow
from shared.db import JSONType, UTCDateTime


class PolicyStatus(StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    REJECTED = "rejected"


POLICY_STATUS_ZH = {
    PolicyStatus.DRAFT: "草稿",
    PolicyStatus.PENDING_APPROVAL: "待审批",
    PolicyStatus.APPROVED: "已批准",
    PolicyStatus.REJECTED: "已退回",
}


class PolicyVersion(GuaranteeModel, table=True):
    """One version of the guarantee policy. Only a draft may change; approval is final.

    Which approved version is in force on a day follows from ``effective_from``: the one
    with the latest ``effective_from`` on or before that day (ties: the later approval).
    ``effective_to`` is kept equal to the next version's ``effective_from`` on approval.
    """

    __tablename__ = "policy_versions"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=200)
    version: int = Field(unique=True)
    status: str = Field(max_length=20, index=True)
    document: dict[str, Any] = Field(sa_type=JSONType)
    content_hash: str = Field(max_length=64)
    based_on_id: uuid.UUID | None = Field(default=None, foreign_key="policy_versions.id")
    note: str = Field(default="", max_length=2000)
    effective_from: date | None = None
    effective_to: date | None = None
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    submitted_by: str | None = Field(default=None, max_length=200)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by: str | None = Field(default=None, max_length=200)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision_note: str | None = Field(default=None, max_length=2000)
