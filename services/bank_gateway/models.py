"""Tables and API shapes of the bank gateway."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, StringConstraints
from sqlmodel import Field, SQLModel

from shared.clock import utcnow
from shared.db import JSONType, UTCDateTime, new_registry
from shared.money import Money


class GatewayModel(SQLModel, registry=new_registry()):
    """Root of the bank gateway's models; its own metadata."""


class PartnerBank(GatewayModel, table=True):
    """A partner bank and its OAuth2 client (secret kept only as an argon2 hash)."""

    __tablename__ = "partner_banks"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    code: str = Field(max_length=40, unique=True, description="Short stable id, e.g. srcb")
    name: str = Field(max_length=200, description="银行名称")
    webhook_url: str | None = Field(default=None, max_length=500)
    active: bool = True
    client_id: str | None = Field(default=None, max_length=80, unique=True)
    client_secret_hash: str | None = Field(default=None, max_length=200)
    client_secret_set_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StaffAccount(GatewayModel, table=True):
    """A finance bureau staff member's sign-in for the console (password as argon2 hash)."""

    __tablename__ = "staff_accounts"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=40, unique=True)
    display_name: str = Field(max_length=50)
    password_hash: str = Field(max_length=200)
    # The second pair of eyes: may approve batches and policy versions.
    approver: bool = False
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SigningSecret(GatewayModel, table=True):
    """A bank's Standard Webhooks secret (``whsec_…``), for its callbacks and our notices.

    Both sides must know it, so it cannot be hashed. On rotation the old one keeps working
    until ``retires_at``: a bank switches over without a moment of refused callbacks.
    """

    __tablename__ = "signing_secrets"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    bank_id: uuid.UUID = Field(foreign_key="partner_banks.id", index=True)
    secret: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    retires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AuditEntry(GatewayModel, table=True):
    """Who changed what, when."""

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
    # allocations race (see repository.reserve_quota).
    allocated_fen: int = Field(default=0, sa_type=sa.BigInteger)
    valid_from: date
    valid_to: date
    policy_version_id: uuid.UUID
    # Snapshot of the policy version's batch risk parameters, taken when drafted.
    policy_version: int = 0
    warning_loss_rate: str = Field(default="0.0300", max_length=12)
    suspension_loss_rate: str = Field(default="0.0400", max_length=12)
    compensation_ceiling: str = Field(default="0.0500", max_length=12)
    status: str = Field(max_length=20, index=True)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    submitted_by: str | None = Field(default=None, max_length=200)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    approved_by: str | None = Field(default=None, max_length=200)
    approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class BatchLoan(GatewayModel, table=True):
    """An application allocated into a batch: the start of a loan in the ledger."""

    __tablename__ = "batch_loans"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    batch_id: uuid.UUID = Field(foreign_key="batches.id", index=True)
    # Unique: an application is never in two batches.
    application_id: uuid.UUID = Field(unique=True)
    enterprise_uscc: str = Field(max_length=18)
    enterprise_name: str = Field(max_length=200)
    amount_fen: int = Field(sa_type=sa.BigInteger)
    term_months: int
    terms: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    state: str = Field(default="allocated", max_length=20)
    allocated_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # The ledger, fed by the bank's events (services/bank_gateway/ledger.py).
    approved_fen: int = Field(default=0, sa_type=sa.BigInteger)
    disbursed_fen: int = Field(default=0, sa_type=sa.BigInteger)
    outstanding_fen: int = Field(default=0, sa_type=sa.BigInteger)
    repaid_fen: int = Field(default=0, sa_type=sa.BigInteger)
    interest_paid_fen: int = Field(default=0, sa_type=sa.BigInteger)
    recovered_fen: int = Field(default=0, sa_type=sa.BigInteger)
    annual_interest_rate: str | None = Field(default=None, max_length=20)
    disbursed_on: date | None = None
    maturity_on: date | None = None
    overdue_since: date | None = None
    last_event_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The claim (代偿): pending while the guarantee service decides, then its outcome.
    claim_status: str | None = Field(default=None, max_length=20)
    compensation_fen: int = Field(default=0, sa_type=sa.BigInteger)
    fund_recovered_fen: int = Field(default=0, sa_type=sa.BigInteger)
    claim_decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ReceivedEvent(GatewayModel, table=True):
    """Every event a bank sent, under its key (``webhook-id``, or the event's ``id`` in the
    bulk form): the same key again gets the same answer and has no second effect."""

    __tablename__ = "received_events"
    __table_args__ = (
        sa.UniqueConstraint("bank_id", "event_key", name="uq_received_events_bank_key"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    bank_id: uuid.UUID = Field(foreign_key="partner_banks.id")
    event_key: str = Field(max_length=100)
    event_type: str = Field(max_length=50)
    loan_id: uuid.UUID | None = Field(default=None, index=True)
    status: str = Field(max_length=20, index=True)  # applied | held | refused
    payload: dict[str, Any] = Field(sa_type=JSONType)
    problem: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    # The first answer, given again to a repeat of the same key.
    answer_status: str = Field(default="refused", max_length=20)
    answer_loan_state: str | None = Field(default=None, max_length=20)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    applied_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class DeliveryKind(StrEnum):
    WEBHOOK = "webhook"  # a notification to a bank, signed per Standard Webhooks
    INTAKE = "intake"  # a loan's change, reported to loan_intake
    # To the guarantee service: a disbursed loan filed (备案), a claim, a recovery.
    GUARANTEE = "guarantee"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"  # a bank did not take it within the retry window
    FAILED = "failed"  # refused for good (4xx from loan_intake): an operator must look


class Delivery(GatewayModel, table=True):
    """The outbox: written in the same transaction as the change it tells of."""

    __tablename__ = "deliveries"
    # The outbox's "older row of this loan still pending?" check (claim_deliveries).
    __table_args__ = (sa.Index("ix_deliveries_ordering", "application_id", "kind", "status"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    kind: str = Field(max_length=20)
    event_type: str = Field(max_length=50, index=True)
    bank_id: uuid.UUID | None = Field(default=None, foreign_key="partner_banks.id", index=True)
    application_id: uuid.UUID | None = None
    payload: dict[str, Any] = Field(sa_type=JSONType)
    status: str = Field(default=DeliveryStatus.PENDING, max_length=20, index=True)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=2000)
    last_status_code: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Start of the retry window (creation, or the last redelivery by hand).
    window_from: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# --- API shapes -------------------------------------------------------------------------------

BankCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,39}$")]


class PartnerBankPublic(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    webhook_url: str | None
    active: bool
    client_id: str | None
    client_secret_set_at: datetime | None
    signing_secrets_valid: int = 0
    created_at: datetime


class PartnerBankCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: BankCode
    name: Annotated[str, StringConstraints(min_length=2, max_length=200)]
    webhook_url: AnyHttpUrl | None = None


class PartnerBankUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, StringConstraints(min_length=2, max_length=200)] | None = None
    webhook_url: AnyHttpUrl | None = None
    active: bool | None = None


class BankCredentials(BaseModel):
    """Shown once: only a hash of the client secret is kept."""

    bank: PartnerBankPublic
    client_id: str
    client_secret: str | None = None
    signing_secret: str | None = None
    signing_secret_previous_retires_at: datetime | None = None


class SigningRotation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    overlap_hours: int = Field(24, ge=0, le=168, description="How long the old secret stays valid")


class TokenResponse(BaseModel):
    """RFC 6749 §5.1."""

    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int
    scope: str


class AuditEntryPublic(BaseModel):
    id: int
    occurred_at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str
    detail: dict[str, Any]


class BatchCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    bank_code: str
    name: Annotated[str, StringConstraints(min_length=2, max_length=200)]
    quota: Money = Field(gt=0, description="批次额度 (yuan)")
    valid_from: date
    valid_to: date
    policy_version_id: uuid.UUID = Field(
        description="The guarantee policy version whose terms apply"
    )


class BatchClosing(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: Annotated[str, StringConstraints(min_length=2, max_length=500)] = Field(
        description="关闭原因, shown to the bank and to SMEs whose loans were not approved"
    )


class BatchPublic(BaseModel):
    id: uuid.UUID
    bank_code: str
    bank_name: str
    name: str
    quota: Money
    allocated: Money
    available: Money
    loans: int
    valid_from: date
    valid_to: date
    policy_version_id: uuid.UUID
    status: BatchStatus
    status_zh: str
    created_by: str
    created_at: datetime
    submitted_by: str | None
    submitted_at: datetime | None
    approved_by: str | None
    approved_at: datetime | None


class BatchPage(BaseModel):
    items: list[BatchPublic]
    total: int
    offset: int
    limit: int


class AllocationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    application_ids: list[uuid.UUID] = Field(min_length=1, max_length=200)


class AutoAllocationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_applications: int = Field(200, ge=1, le=200, description="At most this many this call")
    include_no_preference: bool = Field(
        True, description="Also applications that named no bank (after those naming this one)"
    )
    include_other_banks: bool = Field(
        False, description="Also applications that named another bank (last)"
    )


class AllocationOutcome(BaseModel):
    application_id: uuid.UUID
    allocated: bool
    code: str | None = Field(None, description="Why not: not_found, not_eligible, in_a_batch, …")
    message: str | None = None
    amount: Money | None = None


class AllocationResult(BaseModel):
    batch: BatchPublic
    outcomes: list[AllocationOutcome]


class AutoAllocationResult(AllocationResult):
    scanned: int = Field(description="Eligible applications looked at in loan_intake")
    chosen: dict[str, int] = Field(
        description="How many were chosen by preference: this_bank, no_preference, other_bank"
    )


class BatchLoanPublic(BaseModel):
    id: uuid.UUID
    application_id: uuid.UUID
    enterprise_uscc: str
    enterprise_name: str
    amount: Money
    term_months: int
    state: str
    terms: dict[str, Any] | None
    created_at: datetime
    approved: Money
    disbursed: Money
    outstanding: Money
    repaid: Money
    interest_paid: Money
    annual_interest_rate: str | None
    disbursed_on: date | None
    maturity_on: date | None
    claim_status: str | None
    compensation: Money
    recovered: Money
    recovered_to_fund: Money
    last_event_at: datetime | None


class BatchLoanPage(BaseModel):
    items: list[BatchLoanPublic]
    total: int
    offset: int
    limit: int


class DeliveryPublic(BaseModel):
    id: uuid.UUID
    webhook_id: str = Field(description="The webhook-id header: msg_<id>")
    kind: DeliveryKind
    event_type: str
    bank_code: str | None
    application_id: uuid.UUID | None
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    last_status_code: int | None
    created_at: datetime
    delivered_at: datetime | None
    ended_at: datetime | None
    payload: dict[str, Any]


class DeliveryPage(BaseModel):
    items: list[DeliveryPublic]
    total: int
    offset: int
    limit: int


class EventOutcome(BaseModel):
    """What became of one event."""

    id: str = Field(description="The event's key: webhook-id, or its id in the bulk form")
    status: str = Field(description="applied | held (waits for its predecessor) | refused")
    loan_id: uuid.UUID | None = None
    loan_state: str | None = None
    problem: dict[str, Any] | None = Field(None, description="Why refused (RFC 9457 fields)")


class BulkResult(BaseModel):
    results: list[EventOutcome]
    applied: int
    held: int
    refused: int


class BatchRisk(BaseModel):
    """A batch's figures, live from its loan ledger."""

    batch_id: uuid.UUID
    status: BatchStatus
    quota: Money
    allocated: Money
    quota_used: Decimal = Field(description="allocated ÷ quota")
    loans_by_state: dict[str, int]
    disbursed: Money = Field(description="Principal disbursed (the batch's guaranteed volume)")
    outstanding: Money
    overdue: Money = Field(description="Outstanding principal of loans overdue")
    defaulted: Money = Field(
        description="Outstanding principal of loans in default whose claim is not decided yet"
    )
    compensation_paid: Money = Field(description="Paid by the fund on decided claims")
    recovered_to_fund: Money = Field(description="The fund's share of recoveries since")
    net_loss: Money = Field(description="defaulted + compensation paid − recovered to the fund")
    loss_rate: Decimal = Field(description="net loss ÷ disbursed")
    warning_loss_rate: Decimal
    suspension_loss_rate: Decimal
    compensation_ceiling: Decimal
    compensation_ceiling_amount: Money = Field(description="ceiling × disbursed")
    compensation_room: Money = Field(description="What claims may still be paid under it")
    level: str = Field(description="normal | warning | suspension")


class StatementLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    loan_id: uuid.UUID
    state: str = Field(max_length=20)
    outstanding: Money


class Statement(BaseModel):
    """A bank's view of its loans on a date, to compare with the gateway's ledger."""

    model_config = ConfigDict(extra="forbid")

    as_of: date
    loans: list[StatementLine] = Field(max_length=20_000)


class Mismatch(BaseModel):
    loan_id: uuid.UUID
    field: str = Field(description="state | outstanding")
    bank: str
    gateway: str


class MissingEvent(BaseModel):
    loan_id: uuid.UUID
    code: str = Field(description="approved_not_disbursed | no_repayment_report")
    message: str
    days: int = Field(description="Days since the loan's last event, as of the statement")


class ReconciliationReport(BaseModel):
    as_of: date
    checked: int
    matched: int
    mismatches: list[Mismatch]
    unknown_loans: list[uuid.UUID] = Field(description="In the statement, not this bank's loans")
    missing_from_statement: list[uuid.UUID] = Field(
        description="This bank's live loans the statement leaves out"
    )
    missing_events: list[MissingEvent]
    waiting_events: dict[str, int] = Field(
        description="Loan id → events held for a predecessor that has not arrived"
    )
