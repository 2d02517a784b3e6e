"""Tables and API shapes of loan_intake.

Money is stored as integer fen (``*_fen`` columns) and shown as ``Money`` strings.
"""

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import pydantic
import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, field_validator
from pydantic_core import PydanticCustomError
from sqlmodel import Field, SQLModel

from shared.clock import shanghai_today, utcnow
from shared.contracts.assessment import Decision, EnterpriseFlags, ProposedTerms, Reason
from shared.db import JSONType, UTCDateTime, new_registry
from shared.money import Money
from shared.sme import SmeSize, UnknownSector, resolve_sector
from shared.uscc import InvalidUSCC, validate_uscc


class IntakeModel(SQLModel, registry=new_registry()):
    """Root of loan_intake's models; its own metadata, apart from the other services'."""


class ApplicationStatus(StrEnum):
    SUBMITTED = "submitted"
    ASSESSING = "assessing"
    ELIGIBLE = "eligible"
    INELIGIBLE = "ineligible"
    REFERRED = "referred"
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


S = ApplicationStatus
# DESIGN.md §4. Anything not listed here is refused.
TRANSITIONS: dict[ApplicationStatus, frozenset[ApplicationStatus]] = {
    S.SUBMITTED: frozenset({S.ASSESSING, S.WITHDRAWN}),
    S.ASSESSING: frozenset({S.ELIGIBLE, S.INELIGIBLE, S.REFERRED, S.WITHDRAWN}),
    S.REFERRED: frozenset({S.ELIGIBLE, S.INELIGIBLE, S.WITHDRAWN}),
    S.ELIGIBLE: frozenset({S.ALLOCATED, S.WITHDRAWN}),
    S.INELIGIBLE: frozenset(),
    S.ALLOCATED: frozenset({S.BANK_REVIEWING, S.APPROVED, S.DECLINED}),
    S.BANK_REVIEWING: frozenset({S.APPROVED, S.DECLINED}),
    S.APPROVED: frozenset({S.DISBURSED, S.DECLINED}),
    S.DECLINED: frozenset(),
    S.DISBURSED: frozenset({S.REPAYING, S.OVERDUE, S.SETTLED}),
    S.REPAYING: frozenset({S.REPAYING, S.OVERDUE, S.SETTLED}),
    S.OVERDUE: frozenset({S.REPAYING, S.DEFAULTED, S.SETTLED}),
    S.DEFAULTED: frozenset({S.CLAIMED, S.RECOVERING, S.WRITTEN_OFF}),
    # Back to defaulted when the fund pays nothing (the batch's ceiling is used up).
    S.CLAIMED: frozenset({S.COMPENSATED, S.DEFAULTED}),
    S.COMPENSATED: frozenset({S.RECOVERING, S.CLOSED, S.WRITTEN_OFF}),
    S.RECOVERING: frozenset({S.RECOVERING, S.CLOSED, S.WRITTEN_OFF}),
    S.SETTLED: frozenset(),
    S.CLOSED: frozenset(),
    S.WRITTEN_OFF: frozenset(),
    S.WITHDRAWN: frozenset(),
}
STATUS_LABELS_ZH: dict[ApplicationStatus, str] = {
    S.SUBMITTED: "已提交",
    S.ASSESSING: "评估中",
    S.ELIGIBLE: "符合条件",
    S.INELIGIBLE: "不符合条件",
    S.REFERRED: "待人工复核",
    S.ALLOCATED: "已分配批次",
    S.BANK_REVIEWING: "银行审批中",
    S.APPROVED: "银行已批准",
    S.DECLINED: "银行已拒绝",
    S.DISBURSED: "已放款",
    S.REPAYING: "还款中",
    S.SETTLED: "已结清",
    S.OVERDUE: "逾期",
    S.DEFAULTED: "违约",
    S.CLAIMED: "已申请代偿",
    S.COMPENSATED: "已代偿",
    S.RECOVERING: "追偿中",
    S.CLOSED: "已关闭",
    S.WRITTEN_OFF: "已核销",
    S.WITHDRAWN: "已撤回",
}
DECISION_STATUS = {
    Decision.ELIGIBLE: S.ELIGIBLE,
    Decision.INELIGIBLE: S.INELIGIBLE,
    Decision.REFERRED: S.REFERRED,
}


# --- tables ----------------------------------------------------------------------------


class Enterprise(IntakeModel, table=True):
    __tablename__ = "enterprises"

    id: int | None = Field(default=None, primary_key=True)
    uscc: str = Field(max_length=18, unique=True)
    name: str = Field(max_length=200)
    registered_district: str = Field(max_length=50)
    industry_code: str | None = Field(default=None, max_length=8)
    sme_sector: str = Field(max_length=40)
    sme_size: str = Field(max_length=10)
    employees: int
    annual_revenue_fen: int = Field(sa_type=sa.BigInteger)
    total_assets_fen: int = Field(sa_type=sa.BigInteger)
    established_on: date
    flags: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class EnterpriseAccount(IntakeModel, table=True):
    """An enterprise's sign-in for the SME portal: its USCC and a password (argon2 hash)."""

    __tablename__ = "enterprise_accounts"

    id: int | None = Field(default=None, primary_key=True)
    uscc: str = Field(max_length=18, unique=True)
    enterprise_name: str = Field(max_length=200)
    contact_name: str = Field(max_length=50)
    contact_phone: str = Field(max_length=20)
    password_hash: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Application(IntakeModel, table=True):
    __tablename__ = "applications"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
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
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    assessed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ApplicationEvent(IntakeModel, table=True):
    """One status change: who, when, why. Appended, never updated."""

    __tablename__ = "application_events"

    id: int | None = Field(default=None, primary_key=True)
    application_id: uuid.UUID = Field(foreign_key="applications.id", index=True)
    from_status: str | None = Field(default=None, max_length=20)
    to_status: str = Field(max_length=20)
    actor: str = Field(max_length=200)
    reason: str = Field(max_length=1000)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Set when the change came from the bank gateway: the same update again is a no-op.
    update_id: uuid.UUID | None = Field(default=None, unique=True)
    details: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    # The tamper-evident chain (shared/audit.py): empty until the sealer reaches the row.
    chain_seq: int | None = Field(default=None, sa_type=sa.BigInteger, unique=True)
    prev_hash: str | None = Field(default=None, max_length=64)
    chain_hash: str | None = Field(default=None, max_length=64)


class AuditEntry(IntakeModel, table=True):
    """Changes outside an application's own history: SME accounts registered and signed in
    to. Sealed into a chain like the history (shared/audit.py)."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    occurred_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor: str = Field(max_length=200)
    action: str = Field(max_length=50)
    entity_type: str = Field(max_length=50)
    entity_id: str = Field(max_length=64, index=True)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    before: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    after: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    chain_seq: int | None = Field(default=None, sa_type=sa.BigInteger, unique=True)
    prev_hash: str | None = Field(default=None, max_length=64)
    chain_hash: str | None = Field(default=None, max_length=64)


class IdempotencyRecord(IntakeModel, table=True):
    """IETF draft-ietf-httpapi-idempotency-key-header: one stored response per client key."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (sa.UniqueConstraint("client", "key", name="uq_idempotency_keys_client_key"),)

    id: int | None = Field(default=None, primary_key=True)
    client: str = Field(max_length=200)
    key: str = Field(max_length=200)
    fingerprint: str = Field(max_length=64)
    status_code: int
    response: dict[str, Any] = Field(sa_type=JSONType)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OutboxMessage(IntakeModel, table=True):
    """Work that must reach another service, written in the transaction that caused it."""

    __tablename__ = "outbox_messages"
    __table_args__ = (sa.Index("ix_outbox_messages_due", "completed_at", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    topic: str = Field(max_length=50)
    aggregate_id: uuid.UUID
    payload: dict[str, Any] = Field(sa_type=JSONType)
    request_id: str | None = Field(default=None, max_length=128)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    failed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# --- API shapes ------------------------------------------------------------------------
# Plain pydantic models, not SQLModel: they are built on every request of the hot path,
# and SQLModel's __init__ costs several times more per object.


def _custom(code: str, zh: str, en: str) -> PydanticCustomError:
    safe_en = en.replace("{", "(").replace("}", ")")
    return PydanticCustomError(code, safe_en, {"code": code, "message_zh": zh})


class EnterpriseIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = pydantic.Field(min_length=2, max_length=200, description="企业名称")
    uscc: str = pydantic.Field(description="统一社会信用代码 (GB 32100-2015, 18 characters)")
    registered_district: str = pydantic.Field(
        min_length=2, max_length=50, description="注册地区，如 青浦区"
    )
    sector: str = pydantic.Field(
        description=(
            "GB/T 4754 code (C, C39, F52, K701 …) or a 300号 sector key/name (industry, 工业 …)"
        ),
        max_length=40,
    )
    employees: int = pydantic.Field(ge=0, le=10_000_000, description="从业人员")
    annual_revenue: Money = pydantic.Field(description="上年营业收入 (yuan)")
    total_assets: Money = pydantic.Field(description="资产总额 (yuan)")
    total_liabilities: Money | None = pydantic.Field(
        None, description="负债总额 (yuan), optional: gives the policy a debt ratio"
    )
    land_area_mu: Decimal | None = pydantic.Field(
        None,
        ge=0,
        le=1_000_000,
        max_digits=12,
        decimal_places=2,
        description="用地面积（亩）, optional: gives the policy output per mu (亩均产值)",
    )
    established_on: date = pydantic.Field(description="成立日期")
    flags: EnterpriseFlags = pydantic.Field(default_factory=EnterpriseFlags)

    @field_validator("uscc")
    @classmethod
    def _check_uscc(cls, value: str) -> str:
        try:
            return validate_uscc(value)
        except InvalidUSCC as exc:
            raise _custom(exc.code, exc.message_zh, exc.message_en) from None

    @field_validator("sector")
    @classmethod
    def _check_sector(cls, value: str) -> str:
        try:
            resolve_sector(value)
        except UnknownSector as exc:
            raise _custom(exc.code, exc.message_zh, exc.message_en) from None
        return value

    @field_validator("annual_revenue", "total_assets", "total_liabilities")
    @classmethod
    def _not_negative(cls, value: Any) -> Any:
        if value is not None and value < 0:
            raise _custom("money_negative", "金额不能为负数", "must not be negative")
        return value

    @field_validator("established_on")
    @classmethod
    def _in_the_past(cls, value: date) -> date:
        if value > shanghai_today():
            raise _custom(
                "date_in_future", "成立日期不能晚于今天", "established date is in the future"
            )
        if value.year < 1949:
            raise _custom("date_too_old", "成立日期不合理", "established date too early")
        return value


MIN_TERM_MONTHS = 1
MAX_TERM_MONTHS = 120


class LoanIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    amount: Money = pydantic.Field(description='申请金额 (yuan), e.g. "5000000.00"')
    term_months: int = pydantic.Field(description="贷款期限（月），1–120")
    purpose: str = pydantic.Field(min_length=2, max_length=500, description="贷款用途")
    preferred_bank: str | None = pydantic.Field(
        default=None, max_length=100, description="意向银行"
    )

    @field_validator("amount")
    @classmethod
    def _positive(cls, value: Any) -> Any:
        if value <= 0:
            raise _custom(
                "money_not_positive", "申请金额必须大于 0", "amount must be greater than zero"
            )
        return value

    @field_validator("term_months", mode="before")
    @classmethod
    def _term(cls, value: Any) -> Any:
        if (
            isinstance(value, int)
            and not isinstance(value, bool)
            and not (MIN_TERM_MONTHS <= value <= MAX_TERM_MONTHS)
        ):
            raise _custom(
                "term_out_of_range",
                f"贷款期限应在 {MIN_TERM_MONTHS}–{MAX_TERM_MONTHS} 个月之间，当前 {value}",
                f"term must be {MIN_TERM_MONTHS}-{MAX_TERM_MONTHS} months, got {value}",
            )
        return value


class ApplicationCreate(BaseModel):
    """What an SME submits: who it is and what it asks for."""

    model_config = ConfigDict(extra="forbid")

    enterprise: EnterpriseIn
    loan: LoanIn


class HistoryEntry(BaseModel):
    from_status: ApplicationStatus | None
    to_status: ApplicationStatus
    to_status_label: str
    actor: str
    reason: str
    at: datetime
    details: dict[str, Any] | None = None


class EnterprisePublic(BaseModel):
    uscc: str
    name: str
    registered_district: str
    industry_code: str | None
    sme_sector: str
    sme_sector_name: str
    sme_size: SmeSize
    sme_size_label: str
    employees: int
    annual_revenue: Money
    total_assets: Money
    established_on: date
    flags: EnterpriseFlags


class LoanPublic(BaseModel):
    amount: Money
    term_months: int
    purpose: str
    preferred_bank: str | None


class ApplicationPublic(BaseModel):
    id: uuid.UUID
    status: ApplicationStatus
    status_label: str
    enterprise: EnterprisePublic
    loan: LoanPublic
    decision: Decision | None
    score: int | None
    reasons: list[Reason] | None
    terms: ProposedTerms | None
    policy_name: str | None
    policy_version_id: uuid.UUID | None
    assessment_id: uuid.UUID | None
    submitted_by: str
    created_at: datetime
    updated_at: datetime
    assessed_at: datetime | None
    history: list[HistoryEntry]
    links: dict[str, str]


class ApplicationSummary(BaseModel):
    id: uuid.UUID
    enterprise_uscc: str
    enterprise_name: str
    amount: Money
    term_months: int
    preferred_bank: str | None
    status: ApplicationStatus
    status_label: str
    decision: Decision | None
    score: int | None
    created_at: datetime


class ApplicationPage(BaseModel):
    items: list[ApplicationSummary]
    total: int
    page: int
    page_size: int
