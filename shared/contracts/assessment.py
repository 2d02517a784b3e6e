"""loan_intake ⇄ guarantee: ``POST /v1/assessments`` on the guarantee service."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from shared.money import Money, Rate
from shared.sme import SmeSize

# 统一社会信用代码: 18 characters of GB 32100-2015's alphabet (loan_intake checks the check
# character; here the shape, so that nothing else reaches a query or a lock key).
USCC_PATTERN = r"^[0-9A-HJ-NPQRTUWXY]{18}$"
Uscc = Annotated[str, Field(pattern=USCC_PATTERN)]


def _no_control_characters(text: str) -> str:
    # PostgreSQL stores no NUL in text or JSONB, and no one writes control characters into
    # a firm's name: refused as bad input, not a 500.
    if any(ord(c) < 32 and c not in "\t\n\r" for c in text):
        raise PydanticCustomError(
            "control_characters",
            "must not contain control characters",
            {"message_zh": "不能包含控制字符"},
        )
    return text


Text = Annotated[str, AfterValidator(_no_control_characters)]


class EnterpriseFlags(BaseModel):
    model_config = ConfigDict(extra="forbid")

    specialized_new: bool = Field(False, description="专精特新中小企业")
    little_giant: bool = Field(False, description="专精特新“小巨人”企业")
    high_tech: bool = Field(False, description="高新技术企业")
    tech_sme: bool = Field(False, description="科技型中小企业")
    key_industry: bool = Field(False, description="青浦“3+5”重点产业")
    bad_credit_2y: bool = Field(
        False, description="近两年企业、法定代表人或实际控制人有严重失信记录"
    )
    pending_lawsuit: bool = Field(False, description="有影响偿债能力的未决诉讼")
    phase_out_list: bool = Field(False, description="列入“三高一低”淘汰名单")


class EnterpriseSnapshot(BaseModel):
    """The enterprise as it was when the application was submitted."""

    uscc: Uscc
    name: Text
    registered_district: Text
    industry_code: Text | None
    sme_sector: Text
    sme_size: SmeSize
    employees: int
    annual_revenue: Money
    total_assets: Money
    total_liabilities: Money | None = Field(None, description="负债总额, if given")
    land_area_mu: Decimal | None = Field(
        None, ge=0, max_digits=12, decimal_places=2, description="用地面积（亩）, if given"
    )
    established_on: date
    flags: EnterpriseFlags


class LoanRequest(BaseModel):
    amount: Money
    term_months: int
    purpose: Text
    preferred_bank: Text | None = None


CHECK_ZH = {"credit_report": "企业征信报告", "lawsuits": "涉诉信息"}


class BankCheck(BaseModel):
    """A check the lending bank made itself before it lent (见贷即保): the credit report
    it pulled, the court records it searched — on a day, by a named person."""

    model_config = ConfigDict(extra="forbid")

    check: Literal["credit_report", "lawsuits"] = Field(
        description="credit_report: 企业征信报告 (严重失信); lawsuits: 涉诉信息 (未决诉讼)"
    )
    result: Literal["clear", "adverse"] = Field(description="clear: nothing found")
    checked_on: date
    checked_by: Text = Field(min_length=2, max_length=100, description="Who checked (a name)")
    reference: Text | None = Field(None, max_length=100, description="e.g. the report's number")


class Attestation(BankCheck):
    """A bank's check as the fund keeps it: which bank said so (the gateway's word, not the
    bank's)."""

    bank_code: str = Field(max_length=40)


class AssessmentRequest(BaseModel):
    application_id: uuid.UUID
    submitted_at: datetime
    as_of: date = Field(description="The date whose policy applies (Asia/Shanghai)")
    enterprise: EnterpriseSnapshot
    loan: LoanRequest
    attestations: list[Attestation] = Field(
        default=[], max_length=10, description="A lending bank's own checks (见贷即保)"
    )


class Decision(StrEnum):
    ELIGIBLE = "eligible"
    INELIGIBLE = "ineligible"
    REFERRED = "referred"


class Reason(BaseModel):
    code: str
    passed: bool
    message_zh: str = Field(description="The rule's requirement, filled with this firm's facts")
    message_en: str
    finding_zh: str | None = Field(
        None, description="Only when not passed: what was found, as the firm should read it"
    )


class ProposedTerms(BaseModel):
    guaranteed_amount: Money = Field(description="Principal the fund stands behind")
    coverage_ratio: Rate = Field(description="Fund's share of a loss, e.g. 0.8000")
    annual_fee_rate: Rate
    fee_subsidy_share: Rate
    interest_subsidy_share: Rate
    annual_fee: Money = Field(description="Guarantee fee for one year on the principal")
    annual_fee_subsidy: Money
    annual_fee_payable: Money = Field(description="What the SME pays after the subsidy")
    term_months: int
    segment: str = Field(description="Terms segment of the policy that applied")
    max_amount: Money = Field(description="Per-enterprise cap of that segment")
    fee_days: int = Field(description="Days from the as-of date to the end of the term")
    day_count_basis: int = Field(description="360 (or 365): fee = principal × rate × days / basis")
    guarantee_fee: Money = Field(description="Guarantee fee over the whole term")
    guarantee_fee_subsidy: Money = Field(description="The district's share of that fee")
    guarantee_fee_payable: Money = Field(description="What the SME pays over the term")
    interest_subsidy_points: Rate | None = Field(
        None, description="贴息 as points a year on the outstanding (instead of the share)"
    )
    interest_subsidy_months: int | None = Field(None, description="贴息 for so many months")
    interest_subsidy_firm_annual_cap: Money | None = Field(
        None, description="贴息 at most this much per firm and calendar year"
    )
    fee_subsidy_firm_annual_cap: Money | None = Field(
        None, description="Fee subsidy at most this much per firm and calendar year"
    )


class AssessmentResult(BaseModel):
    assessment_id: uuid.UUID
    application_id: uuid.UUID
    decision: Decision
    score: int = Field(ge=0, le=100)
    reasons: list[Reason]
    terms: ProposedTerms | None
    policy_version_id: uuid.UUID
    policy_name: str
    policy_version: int
    assessed_at: datetime


class AssessmentPreview(BaseModel):
    """What the policy in force would decide on the request now — nothing recorded: the
    portal's 预审 before the firm submits (the caps, the firm's 在保余额 included)."""

    decision: Decision
    score: int = Field(ge=0, le=100)
    findings_zh: list[str] = Field(description="Each failed rule's finding, as the firm reads it")
    max_amount: Money = Field(description="The cap for this firm's segment")
    max_term_months: int
    firm_outstanding: Money = Field(description="在保余额 the fund already holds for the firm")
    firm_pending: Money = Field(description="Applications in flight for the firm")
    policy_name: str
    policy_version: int


MAX_BATCH = 500


class AssessmentBatchItem(BaseModel):
    request_id: str | None = Field(
        None, description="X-Request-ID of the submission, so its logs can be followed here"
    )
    request: AssessmentRequest


class AssessmentBatch(BaseModel):
    items: list[AssessmentBatchItem] = Field(min_length=1, max_length=MAX_BATCH)


class ItemProblem(BaseModel):
    type: str
    title: str
    status: int
    detail: str | None = None


class AssessmentBatchOutcome(BaseModel):
    application_id: uuid.UUID
    result: AssessmentResult | None = None
    problem: ItemProblem | None = Field(
        None, description="Why this item was refused; the others are unaffected"
    )


class AssessmentBatchResult(BaseModel):
    outcomes: list[AssessmentBatchOutcome]


class ApplicationsLapsed(BaseModel):
    """loan_intake → guarantee: applications that will never be lent (withdrawn, declined
    by the bank, found ineligible on review). Their amounts stop counting against their
    firms' 在保余额 cap."""

    model_config = ConfigDict(extra="forbid")

    application_ids: list[uuid.UUID] = Field(min_length=1, max_length=1000)


class LapsesRecorded(BaseModel):
    recorded: int = Field(description="Newly lapsed (one told again is not counted)")
