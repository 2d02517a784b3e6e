"""The policy document: what the finance bureau writes, versions and approves (DESIGN.md §5).

A policy version is data — stored as JSON, imported and exported as YAML or JSON — of
eligibility rules, scoring factors, terms by segment, batch risk lines and claim terms,
whose conditions and points are expressions (:mod:`expressions`, over :mod:`fields`).
The checks here are of the document's shape and its published bounds (coverage ≤ 80 %,
fee < 1 %, warning ≤ suspension ≤ ceiling); :mod:`compiler` checks the expressions.
"""

import hashlib
import json
from collections import Counter
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

from shared.money import Money, Rate

Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,63}$")]
Expression = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=500)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EligibilityRule(_Strict):
    code: Code
    when: Expression = Field(description="Passes when this expression is true")
    message_zh: Text = Field(description="The requirement in Chinese; {field} placeholders")
    message_en: Text
    # An SME refused must read what was found ("存在影响偿债能力的未决诉讼"), not the rule it
    # failed ("无影响偿债能力的未决诉讼") — read alone, the requirement says the opposite.
    failed_zh: Text | None = Field(
        None,
        description="The finding when the rule fails, in Chinese; {field} placeholders, "
        "money fields shown as ¥1,234.50. Without it: 未满足：<message_zh>",
    )


class ScoringFactor(_Strict):
    code: Code
    label_zh: Text
    points: Expression = Field(description="Expression yielding the factor's points")
    weight: Decimal = Field(Decimal(1), ge=0, le=10, max_digits=6, decimal_places=4)


class Bands(_Strict):
    eligible_from: int = Field(ge=0, le=100, description="Score from which an SME is eligible")
    referred_from: int = Field(
        ge=0, le=100, description="Score from which it is referred to the bureau; below: refused"
    )

    @model_validator(mode="after")
    def _ordered(self) -> "Bands":
        if self.referred_from > self.eligible_from:
            raise ValueError("referred_from must not exceed eligible_from")
        return self


class Scoring(_Strict):
    base: int = Field(ge=0, le=100)
    factors: list[ScoringFactor] = Field(max_length=100)
    bands: Bands


def _at_most_80_percent(ratio: Decimal) -> Decimal:
    # The fund covers at most 80 % of a loss: the bank keeps at least 20 % (DESIGN.md §1).
    if ratio > Decimal("0.8"):
        raise PydanticCustomError(
            "coverage_above_80_percent",
            "the fund covers at most 80 % (0.8000): the bank keeps at least 20 %",
            {
                "code": "coverage_above_80_percent",
                "message_zh": "担保基金分担比例不得超过 80%（银行至少承担 20%）",
            },
        )
    return ratio


def _below_1_percent(rate: Decimal) -> Decimal:
    if rate >= Decimal("0.01"):
        raise PydanticCustomError(
            "fee_rate_not_below_1_percent",
            "the annual guarantee fee rate stays below 1 % (0.0100)",
            {"code": "fee_rate_not_below_1_percent", "message_zh": "年担保费率须低于 1%"},
        )
    return rate


CoverageRatio = Annotated[Rate, AfterValidator(_at_most_80_percent)]
FeeRate = Annotated[Rate, AfterValidator(_below_1_percent)]


class TermSet(_Strict):
    coverage_ratio: CoverageRatio
    annual_fee_rate: FeeRate
    fee_subsidy_share: Rate
    interest_subsidy_share: Rate
    max_amount: Money = Field(gt=0)
    max_term_months: int = Field(ge=1, le=120)
    # The highest contract rate a guaranteed loan may carry (checked at 备案); none: any.
    max_annual_rate: Rate | None = None
    # 贴息 as percentage points a year on the outstanding instead of a share of the interest
    # (the 2026 national scheme: 0.0150); for so many months from disbursal; and at most so
    # much a firm in a calendar year. None: no such limit.
    interest_subsidy_points: Rate | None = None
    interest_subsidy_months: int | None = Field(None, ge=1, le=120)
    interest_subsidy_firm_annual_cap: Money | None = Field(None, ge=0)
    # The fee subsidy a firm gets in a calendar year, over all its guarantees; None: no cap.
    fee_subsidy_firm_annual_cap: Money | None = Field(None, ge=0)


class TermOverrides(_Strict):
    coverage_ratio: CoverageRatio | None = None
    annual_fee_rate: FeeRate | None = None
    fee_subsidy_share: Rate | None = None
    interest_subsidy_share: Rate | None = None
    max_amount: Money | None = Field(None, gt=0)
    max_term_months: int | None = Field(None, ge=1, le=120)
    max_annual_rate: Rate | None = None
    interest_subsidy_points: Rate | None = None
    interest_subsidy_months: int | None = Field(None, ge=1, le=120)
    interest_subsidy_firm_annual_cap: Money | None = Field(None, ge=0)
    fee_subsidy_firm_annual_cap: Money | None = Field(None, ge=0)


class Segment(_Strict):
    code: Code
    label_zh: Text
    when: Expression = Field(description="The first segment whose condition holds applies")
    overrides: TermOverrides


class Terms(_Strict):
    default: TermSet
    segments: list[Segment] = Field(default=[], max_length=50)
    day_count_basis: Literal[360, 365] = 360
    # 解保 before maturity: the fee of the period it falls in is cut to the days guaranteed
    # ("pro_rata": the unused part is not billed, or is refunded) or kept whole ("none").
    release_refund: Literal["pro_rata", "none"] = "pro_rata"
    # What the fee is on: the original principal, or what is outstanding on each period's
    # first day (an amortising loan is not billed on what it has repaid).
    fee_base: Literal["principal", "outstanding"] = "principal"
    # The fee falls due per period of this many months from disbursal.
    fee_period_months: Literal[1, 3, 6, 12] = 12
    # The published ceiling (fee below 1 % of principal a year), honoured whatever the day
    # count; none: no ceiling beyond the rate.
    annual_fee_cap: Rate | None = Decimal("0.0100")


class BatchRisk(_Strict):
    warning_loss_rate: Rate
    suspension_loss_rate: Rate
    compensation_ceiling: Rate
    # What the ceiling is a share of: the principal filed in the batch (grows with each
    # 备案; cut claims are topped up), or the batch's quota (fixed from the start).
    ceiling_base: Literal["filed_principal", "batch_quota"] = "filed_principal"
    # A suspended batch reopens by itself once its loss rate is back under the suspension
    # line (True), or only when a bureau approver reopens it (False).
    auto_resume: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> "BatchRisk":
        if not self.warning_loss_rate <= self.suspension_loss_rate <= self.compensation_ceiling:
            raise ValueError(
                "warning_loss_rate ≤ suspension_loss_rate ≤ compensation_ceiling is required"
            )
        return self


class BankFigures(_Strict):
    """How far a bank's reported figures may go before they are refused (the gateway
    freezes these into each batch): interest above the contract rate by at most the
    penalty-interest markup once the loan has been overdue (罚息: PBOC allows 30–50 % above
    the contract rate), and a maturity at most this many days past disbursal + term."""

    penalty_interest_markup: Rate = Decimal("0.50")
    maturity_grace_days: int = Field(31, ge=0, le=366)


class ClaimDocumentKind(_Strict):
    """A paper a claim must carry, by its code (what a bank uploads it as) and name."""

    code: str = Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")
    name_zh: str = Field(min_length=1, max_length=60)


DEFAULT_CLAIM_DOCUMENTS = [
    ClaimDocumentKind(code="accident_report", name_zh="代偿申请书及事故报告书"),
    ClaimDocumentKind(code="collection_records", name_zh="催收记录"),
    ClaimDocumentKind(code="loan_contract", name_zh="借款合同及借据"),
]


class ClaimTerms(_Strict):
    """How a claim (代偿) is computed: coverage × (outstanding principal + interest due),
    the interest counted for at most ``interest_cap_days`` at the loan's rate."""

    interest_cap_days: int = Field(
        90, ge=0, le=3650, description="Interest due is compensated for at most this many days"
    )
    # When a bank may claim: not before the loan has been overdue this long (the bank must
    # have tried to collect), and not later than this after it declared the default.
    min_days_overdue: int = Field(
        90, ge=0, le=3650, description="A claim is accepted once the loan is this many days overdue"
    )
    filing_deadline_days: int = Field(
        180, ge=1, le=3650, description="A claim must be filed within this many days of default"
    )
    # Four eyes on large claims: above this amount at stake (the claimable amount) a second
    # person of the fund, with the approver right, confirms the reviewer's decision.
    second_review_above: Money = Field(
        Decimal("500000.00"), ge=0, description="Claims above this need a second reviewer"
    )
    # The papers a claim must carry before the fund approves or reduces it (it may deny
    # without them); the bank uploads others too (court papers), under any listed code.
    required_documents: list[ClaimDocumentKind] = Field(
        default_factory=lambda: list(DEFAULT_CLAIM_DOCUMENTS), max_length=20
    )
    optional_documents: list[ClaimDocumentKind] = Field(
        default_factory=lambda: [ClaimDocumentKind(code="court_papers", name_zh="诉讼或仲裁文书")],
        max_length=20,
    )

    @model_validator(mode="after")
    def _distinct_documents(self) -> "ClaimTerms":
        codes = [d.code for d in [*self.required_documents, *self.optional_documents]]
        if len(codes) != len(set(codes)):
            raise ValueError("document codes must be distinct")
        return self

    def document_kinds(self) -> dict[str, str]:
        """Every code a bank may upload under, with its name."""
        return {d.code: d.name_zh for d in [*self.required_documents, *self.optional_documents]}


class Settlement(_Strict):
    """How the bureau settles fees, subsidies, compensation and recoveries: in fiscal periods
    of a calendar month or quarter, each closed (frozen) by a bureau approver once ended."""

    period: Literal["monthly", "quarterly"] = Field(
        "monthly", description="Fiscal periods: calendar months or calendar quarters"
    )


class FactRules(_Strict):
    """How a firm's declared facts count against the reference lists in force (issue 18):
    a list always wins over the firm's word; this says what a benefit the firm declares
    (专精特新, 小巨人, 高新技术企业, 科技型中小企业) that no list in force shows is worth."""

    unverified_benefit: Literal["ignore", "refer"] = Field(
        "ignore",
        description="ignore: assessed as not declared; refer: 转财政局复核 (certificate checked)",
    )
    at_filing: Literal["recheck", "accept"] = Field(
        "recheck",
        description=(
            "recheck: 备案日按当日生效名单重新核验 — a firm since added to a barring list, or "
            "dropped from the list whose benefit its loan needs, is not guaranteed a new loan; "
            "accept: the facts of the assessment stand"
        ),
    )


class PolicyDocument(_Strict):
    name: Text
    description: str = Field("", max_length=2000)
    rules: list[EligibilityRule] = Field(min_length=1, max_length=100)
    scoring: Scoring
    terms: Terms
    batch_risk: BatchRisk
    # Optional so documents written before claims existed still validate (with the default).
    claims: ClaimTerms = ClaimTerms()
    bank_figures: BankFigures = BankFigures()
    settlement: Settlement = Settlement()
    facts: FactRules = FactRules()

    @model_validator(mode="after")
    def _unique_codes(self) -> "PolicyDocument":
        for kind, codes in (
            ("rules", [r.code for r in self.rules]),
            ("scoring.factors", [f.code for f in self.scoring.factors]),
            ("terms.segments", [s.code for s in self.terms.segments]),
        ):
            duplicates = sorted(c for c, n in Counter(codes).items() if n > 1)
            if duplicates:
                raise ValueError(f"{kind}: duplicate code {', '.join(duplicates)}")
        return self


def content_hash(document: dict[str, Any]) -> str:
    """The document's identity: what an assessment records it was made under."""
    text = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
