"""API shapes of applications: what an SME submits, what it and the bureau read back.

Plain pydantic models, not SQLModel: they are built on every request of the hot path, and
SQLModel's __init__ costs several times more per object.
"""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from services.loan_intake.models import ApplicationStatus
from shared.clock import shanghai_today
from shared.contracts.assessment import Decision, EnterpriseFlags, ProposedTerms, Reason, Text
from shared.money import Money
from shared.sme import SmeSize, UnknownSector, resolve_sector
from shared.uscc import InvalidUSCC, validate_uscc


def _custom(code: str, zh: str, en: str) -> PydanticCustomError:
    safe_en = en.replace("{", "(").replace("}", ")")
    return PydanticCustomError(code, safe_en, {"code": code, "message_zh": zh})


class EnterpriseIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Text = pydantic.Field(min_length=2, max_length=200, description="企业名称")
    uscc: str = pydantic.Field(description="统一社会信用代码 (GB 32100-2015, 18 characters)")
    registered_district: Text = pydantic.Field(
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
    purpose: Text = pydantic.Field(min_length=2, max_length=500, description="贷款用途")
    preferred_bank: Text | None = pydantic.Field(
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
    total_liabilities: Money | None = None
    land_area_mu: Decimal | None = None
    established_on: date
    flags: EnterpriseFlags


class LoanPublic(BaseModel):
    amount: Money
    term_months: int
    purpose: str
    preferred_bank: str | None


class ApplicationPublic(BaseModel):
    id: uuid.UUID
    number: str | None = pydantic.Field(
        None, description="申请编号 the firm quotes, e.g. QP-2026-000123"
    )
    status: ApplicationStatus
    status_label: str
    status_tone: str = pydantic.Field(description="ok | info | warn | bad | muted")
    next_step_zh: str = pydantic.Field(description="What happens next, as the firm reads it")
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
    number: str | None = None
    enterprise_uscc: str
    enterprise_name: str
    amount: Money
    term_months: int
    preferred_bank: str | None
    status: ApplicationStatus
    status_label: str
    status_tone: str
    decision: Decision | None
    score: int | None
    created_at: datetime


class ApplicationPage(BaseModel):
    items: list[ApplicationSummary]
    total: int
    page: int
    page_size: int


class Withdrawal(BaseModel):
    reason: str = Field(min_length=2, max_length=500, description="撤回原因")


class Review(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["eligible", "ineligible", "returned"] = Field(
        description="The bureau's decision; returned: 退回补充材料, the note says what to add"
    )
    note: str = Field(min_length=2, max_length=500, description="复核意见, shown to the SME")


class Supplement(BaseModel):
    """The firm's answer to 退回补充材料: what it adds, back to the reviewer."""

    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=2, max_length=2000, description="补充说明")


# A submission is accepted at once and assessed later (docs/decisions.md): "202 Accepted",
# kept with an Idempotency-Key so that a replay answers the same.
SUBMISSION_STATUS = 202


class Message(BaseModel):
    """One piece of news in the SME's message centre: a step in one of its applications."""

    application_id: uuid.UUID
    application_number: str | None
    title: str = Field(description="What happened, e.g. 银行已批准")
    body: str
    at: datetime
    unread: bool
