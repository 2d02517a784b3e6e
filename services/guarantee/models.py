"""Tables and API shapes of the guarantee service."""

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict
from sqlmodel import Field, SQLModel

from shared.clock import utcnow
from shared.contracts.assessment import Decision, ProposedTerms, Reason
from shared.contracts.claims import ClaimDecision, RecoveryShare
from shared.db import JSONType, UTCDateTime, new_registry
from shared.errors import FieldError
from shared.money import Money


class GuaranteeModel(SQLModel, registry=new_registry()):
    """Root of the guarantee service's models; its own metadata."""


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


class AuditEntry(GuaranteeModel, table=True):
    """Who changed what, when: one row per change of a policy version or a what-if job."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    occurred_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor: str = Field(max_length=200)
    action: str = Field(max_length=50)
    entity_type: str = Field(max_length=50)
    entity_id: str = Field(max_length=64, index=True)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    # Before and after of the columns the change touched (all of them for a new record).
    before: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    after: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    # The tamper-evident chain (shared/audit.py): empty until the sealer reaches the row.
    chain_seq: int | None = Field(default=None, sa_type=sa.BigInteger, unique=True)
    prev_hash: str | None = Field(default=None, max_length=64)
    chain_hash: str | None = Field(default=None, max_length=64)


class WhatIfStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class WhatIfJob(GuaranteeModel, table=True):
    """A replay of stored assessments of a period under another policy version."""

    __tablename__ = "whatif_jobs"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    policy_version_id: uuid.UUID = Field(foreign_key="policy_versions.id", index=True)
    policy_hash: str = Field(max_length=64)
    period_from: date
    period_to: date
    status: str = Field(max_length=20, index=True)
    total: int = 0
    processed: int = 0
    summary: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    error: str | None = Field(default=None, max_length=2000)
    attempts: int = 0
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    requested_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WhatIfChange(GuaranteeModel, table=True):
    """One application whose decision, score or terms would differ under the job's version."""

    __tablename__ = "whatif_changes"
    __table_args__ = (
        sa.UniqueConstraint("job_id", "assessment_id", name="uq_whatif_changes_job_assessment"),
    )

    id: int | None = Field(default=None, primary_key=True)
    job_id: uuid.UUID = Field(foreign_key="whatif_jobs.id", index=True)
    assessment_id: uuid.UUID
    application_id: uuid.UUID
    as_of: date
    decision_before: str = Field(max_length=20)
    decision_after: str = Field(max_length=20)
    score_before: int
    score_after: int
    differences: dict[str, Any] = Field(sa_type=JSONType)


class Assessment(GuaranteeModel, table=True):
    """A decision on one application, with everything needed to reproduce it."""

    __tablename__ = "assessments"
    # What-if replays read a period in (as_of, id) order, a page at a time.
    __table_args__ = (sa.Index("ix_assessments_as_of_id", "as_of", "id"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    application_id: uuid.UUID = Field(unique=True)
    fingerprint: str = Field(max_length=64)
    request: dict[str, Any] = Field(sa_type=JSONType)
    policy_version_id: uuid.UUID = Field(foreign_key="policy_versions.id", index=True)
    policy_hash: str = Field(max_length=64)
    as_of: date
    decision: str = Field(max_length=20)
    score: int
    reasons: list[dict[str, Any]] = Field(sa_type=JSONType)
    terms: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    trace: dict[str, Any] = Field(sa_type=JSONType)
    requested_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PolicyVersionSummary(BaseModel):
    id: uuid.UUID
    name: str
    version: int
    status: PolicyStatus
    status_zh: str
    in_force: bool = Field(description="In force today (Asia/Shanghai)")
    effective_from: date | None
    effective_to: date | None
    content_hash: str
    based_on_id: uuid.UUID | None
    note: str
    created_by: str
    created_at: datetime
    updated_at: datetime
    submitted_by: str | None
    submitted_at: datetime | None
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None


class PolicyVersionPublic(PolicyVersionSummary):
    document: dict[str, Any]


class PolicyVersionPage(BaseModel):
    items: list[PolicyVersionSummary]
    total: int
    offset: int
    limit: int


class PolicyCreate(BaseModel):
    """A new draft: a copy of an existing version, or an imported document (JSON or YAML)."""

    model_config = ConfigDict(extra="forbid")

    from_version_id: uuid.UUID | None = Field(None, description="Copy this version's document")
    document: dict[str, Any] | None = Field(None, description="The policy document as JSON")
    yaml: str | None = Field(None, max_length=200_000, description="The document as YAML text")
    note: str = Field("", max_length=2000, description="What this version changes and why")


class PolicyDocumentUpdate(BaseModel):
    """Replace a draft's document (JSON or YAML)."""

    model_config = ConfigDict(extra="forbid")

    document: dict[str, Any] | None = None
    yaml: str | None = Field(None, max_length=200_000)
    note: str | None = Field(None, max_length=2000)


class PolicyCheck(BaseModel):
    """Check a document without saving it."""

    model_config = ConfigDict(extra="forbid")

    document: dict[str, Any] | None = None
    yaml: str | None = Field(None, max_length=200_000)


class PolicyCheckResult(BaseModel):
    valid: bool
    content_hash: str
    errors: list[FieldError]


class PolicySubmission(BaseModel):
    model_config = ConfigDict(extra="forbid")

    effective_from: date = Field(description="First day in force (Asia/Shanghai); not in the past")


class PolicyDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(None, max_length=2000, description="Required when rejecting")


class PolicyChange(BaseModel):
    path: str = Field(description="Where, e.g. rules[amount_within_cap].when")
    change: str = Field(description="added | removed | changed")
    before: Any = None
    after: Any = None


class PolicyDiff(BaseModel):
    from_version: int
    to_version: int
    from_id: uuid.UUID
    to_id: uuid.UUID
    changes: list[PolicyChange]


class WhatIfCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period_from: date = Field(description="First as-of date replayed (inclusive)")
    period_to: date = Field(description="Last as-of date replayed (inclusive)")


class WhatIfJobPublic(BaseModel):
    id: uuid.UUID
    policy_version_id: uuid.UUID
    period_from: date
    period_to: date
    status: WhatIfStatus
    status_zh: str
    total: int
    processed: int
    percent: int = Field(description="0–100; 100 when done, also for an empty period")
    summary: dict[str, Any] | None
    error: str | None
    requested_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class WhatIfChangePublic(BaseModel):
    assessment_id: uuid.UUID
    application_id: uuid.UUID
    as_of: date
    decision_before: Decision
    decision_after: Decision
    score_before: int
    score_after: int
    differences: dict[str, Any]


class WhatIfChangePage(BaseModel):
    items: list[WhatIfChangePublic]
    total: int
    offset: int
    limit: int


class AuditEntryPublic(BaseModel):
    id: int
    occurred_at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str
    detail: dict[str, Any]


class AuditPage(BaseModel):
    items: list[AuditEntryPublic]
    total: int
    offset: int
    limit: int


class AssessmentPublic(BaseModel):
    id: uuid.UUID
    application_id: uuid.UUID
    decision: Decision
    score: int
    reasons: list[Reason]
    terms: ProposedTerms | None
    policy_version_id: uuid.UUID
    policy_hash: str
    as_of: date
    trace: dict[str, Any]
    requested_by: str
    created_at: datetime


class AssessmentReplay(BaseModel):
    assessment_id: uuid.UUID
    policy_version_id: uuid.UUID
    policy_hash: str
    policy_hash_matches: bool
    identical: bool = Field(description="Same decision, score, reasons, terms and trace")
    differences: list[str]


class Guarantee(GuaranteeModel, table=True):
    """A guarantee in force: issued when the bank files a disbursed loan, terms frozen from
    the application's assessment."""

    __tablename__ = "guarantees"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    loan_id: uuid.UUID = Field(unique=True)
    application_id: uuid.UUID = Field(index=True)
    assessment_id: uuid.UUID = Field(foreign_key="assessments.id")
    batch_id: uuid.UUID = Field(index=True)
    bank_code: str = Field(max_length=40)
    policy_version_id: uuid.UUID
    policy_hash: str = Field(max_length=64)
    filing: dict[str, Any] = Field(sa_type=JSONType)
    principal_fen: int = Field(sa_type=sa.BigInteger)
    guaranteed_fen: int = Field(sa_type=sa.BigInteger)
    coverage_ratio: str = Field(max_length=12)
    annual_fee_rate: str = Field(max_length=12)
    fee_subsidy_share: str = Field(max_length=12)
    interest_subsidy_share: str = Field(max_length=12)
    disbursed_on: date
    maturity_on: date
    fee_fen: int = Field(sa_type=sa.BigInteger)
    fee_subsidy_fen: int = Field(sa_type=sa.BigInteger)
    schedule: list[dict[str, Any]] = Field(sa_type=JSONType)
    issued_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class FeePeriod(BaseModel):
    period_from: date
    period_to: date
    days: int
    fee: Money
    subsidy: Money
    payable: Money


class GuaranteePublic(BaseModel):
    id: uuid.UUID
    loan_id: uuid.UUID
    application_id: uuid.UUID
    assessment_id: uuid.UUID
    batch_id: uuid.UUID
    bank_code: str
    policy_version_id: uuid.UUID
    policy_hash: str
    principal: Money
    guaranteed_amount: Money
    coverage_ratio: str
    annual_fee_rate: str
    fee_subsidy_share: str
    interest_subsidy_share: str
    disbursed_on: date
    maturity_on: date
    fee: Money
    fee_subsidy: Money
    fee_payable: Money
    schedule: list[FeePeriod]
    issued_at: datetime


class BatchCompensation(GuaranteeModel, table=True):
    """Compensation paid in one batch: the row every claim of the batch locks, so two claims
    decided at once can never pay past the batch's ceiling together."""

    __tablename__ = "batch_compensation"

    batch_id: uuid.UUID = Field(primary_key=True)
    paid_fen: int = Field(default=0, sa_type=sa.BigInteger)
    fund_recovered_fen: int = Field(default=0, sa_type=sa.BigInteger)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Claim(GuaranteeModel, table=True):
    """A claim (代偿申请) on a guarantee, decided when filed: one per loan."""

    __tablename__ = "claims"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    loan_id: uuid.UUID = Field(unique=True)
    guarantee_id: uuid.UUID = Field(foreign_key="guarantees.id")
    batch_id: uuid.UUID = Field(index=True)
    bank_code: str = Field(max_length=40)
    request: dict[str, Any] = Field(sa_type=JSONType)
    outcome: str = Field(max_length=20, index=True)
    coverage_ratio: str = Field(max_length=12)
    outstanding_fen: int = Field(sa_type=sa.BigInteger)
    interest_due_fen: int = Field(sa_type=sa.BigInteger)
    interest_recognised_fen: int = Field(sa_type=sa.BigInteger)
    claimable_fen: int = Field(sa_type=sa.BigInteger)
    payout_fen: int = Field(sa_type=sa.BigInteger)
    ceiling_rate: str = Field(max_length=12)
    ceiling_fen: int = Field(sa_type=sa.BigInteger)
    batch_paid_after_fen: int = Field(sa_type=sa.BigInteger)
    reasons: list[dict[str, Any]] = Field(sa_type=JSONType)
    # Recoveries after the payout, as running totals (each recovery's split is its own row).
    recovered_fen: int = Field(default=0, sa_type=sa.BigInteger)
    fund_recovered_fen: int = Field(default=0, sa_type=sa.BigInteger)
    decided_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class Recovery(GuaranteeModel, table=True):
    """Money recovered from a defaulted borrower after a claim, split pro rata."""

    __tablename__ = "recoveries"

    id: uuid.UUID = Field(primary_key=True, description="The gateway's recovery id")
    claim_id: uuid.UUID = Field(foreign_key="claims.id", index=True)
    loan_id: uuid.UUID
    amount_fen: int = Field(sa_type=sa.BigInteger)
    fund_share_fen: int = Field(sa_type=sa.BigInteger)
    bank_share_fen: int = Field(sa_type=sa.BigInteger)
    recovered_on: date
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ClaimPublic(ClaimDecision):
    id: uuid.UUID
    bank_code: str
    recovered: Money
    fund_recovered: Money
    bank_recovered: Money
    recoveries: list[RecoveryShare]


class ClaimPage(BaseModel):
    items: list[ClaimPublic]
    total: int
    offset: int
    limit: int
