"""The policy document, its compilation and its evaluation.

A policy version is data: a :class:`PolicyDocument` (stored as JSON, imported and
exported as YAML or JSON) of eligibility rules, scoring factors, terms by segment and
batch risk parameters, whose conditions and points are expressions
(:mod:`services.guarantee.expressions`). :func:`compile_policy` checks every expression
and every message, and collects every problem at once so the bureau fixes a draft in one
round; :func:`evaluate` applies a compiled policy to one application and keeps the whole
trace — each rule's verdict, each factor's points, the segment and the derived fields.
"""

import calendar
import hashlib
import json
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
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

from services.guarantee.expressions import (
    BOOLEAN,
    FIELDS,
    NUMBER,
    SEGMENT_FIELDS,
    CompiledExpression,
    ExpressionRefused,
    application_fields,
    compile_expression,
    placeholders,
    probe,
    probe_applications,
    render,
    runtime_rule,
)
from shared.contracts.assessment import AssessmentRequest, Decision, ProposedTerms, Reason
from shared.errors import FieldError
from shared.money import Money, Rate, round_to_fen

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
    factors: list[ScoringFactor]
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


class TermOverrides(_Strict):
    coverage_ratio: CoverageRatio | None = None
    annual_fee_rate: FeeRate | None = None
    fee_subsidy_share: Rate | None = None
    interest_subsidy_share: Rate | None = None
    max_amount: Money | None = Field(None, gt=0)
    max_term_months: int | None = Field(None, ge=1, le=120)


class Segment(_Strict):
    code: Code
    label_zh: Text
    when: Expression = Field(description="The first segment whose condition holds applies")
    overrides: TermOverrides


class Terms(_Strict):
    default: TermSet
    segments: list[Segment] = []
    day_count_basis: Literal[360, 365] = 360


class BatchRisk(_Strict):
    warning_loss_rate: Rate
    suspension_loss_rate: Rate
    compensation_ceiling: Rate

    @model_validator(mode="after")
    def _ordered(self) -> "BatchRisk":
        if not self.warning_loss_rate <= self.suspension_loss_rate <= self.compensation_ceiling:
            raise ValueError(
                "warning_loss_rate ≤ suspension_loss_rate ≤ compensation_ceiling is required"
            )
        return self


class ClaimTerms(_Strict):
    """How a claim (代偿) is computed: coverage × (outstanding principal + interest due),
    the interest counted for at most ``interest_cap_days`` at the loan's rate."""

    interest_cap_days: int = Field(
        90, ge=0, le=3650, description="Interest due is compensated for at most this many days"
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

    @model_validator(mode="after")
    def _unique_codes(self) -> "PolicyDocument":
        for kind, codes in (
            ("rules", [r.code for r in self.rules]),
            ("scoring.factors", [f.code for f in self.scoring.factors]),
            ("terms.segments", [s.code for s in self.terms.segments]),
        ):
            duplicates = sorted({c for c in codes if codes.count(c) > 1})
            if duplicates:
                raise ValueError(f"{kind}: duplicate code {', '.join(duplicates)}")
        return self


def canonical(document: dict[str, Any]) -> dict[str, Any]:
    """The document as stored: validated and normalised (rates "0.0050", money "1.00")."""
    return PolicyDocument.model_validate(document).model_dump(mode="json")


def content_hash(document: dict[str, Any]) -> str:
    text = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class PolicyInvalid(Exception):
    """The document cannot be used; ``errors`` says where and why, all at once."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(f"{len(errors)} problem(s) in the policy")
        self.errors = errors


@dataclass(frozen=True)
class CompiledRule:
    spec: EligibilityRule
    expression: CompiledExpression
    names_zh: list[str]
    names_en: list[str]


@dataclass(frozen=True)
class CompiledFactor:
    spec: ScoringFactor
    expression: CompiledExpression


@dataclass(frozen=True)
class CompiledSegment:
    spec: Segment
    expression: CompiledExpression
    terms: TermSet


@dataclass(frozen=True)
class CompiledPolicy:
    document: PolicyDocument
    rules: list[CompiledRule]
    factors: list[CompiledFactor]
    segments: list[CompiledSegment]
    # Every rule, then every factor, as one array expression: one evaluation per
    # assessment instead of one per expression. On an error, each is run on its own to
    # find which one failed.
    combined: Any


def _segment_terms(default: TermSet, overrides: TermOverrides) -> TermSet:
    merged = default.model_dump(mode="json") | overrides.model_dump(mode="json", exclude_none=True)
    return TermSet.model_validate(merged)


def _limits(terms: TermSet, code: str) -> dict[str, Any]:
    return {
        "segment": code,
        "max_amount": terms.max_amount,
        "max_term_months": Decimal(terms.max_term_months),
    }


def compile_policy(document: PolicyDocument) -> CompiledPolicy:
    """Compile every expression; :class:`PolicyInvalid` lists every problem found."""
    errors: list[FieldError] = []
    default = document.terms.default
    probes = probe_applications(_limits(default, "default"))

    def compiled(path: str, text: str, result: Any, known: Any = FIELDS) -> Any:
        try:
            expression = compile_expression(text, result=result, known=known)
            probe(expression, probes, result)
        except ExpressionRefused as refused:
            e = refused.error
            errors.append(
                FieldError(
                    field=path,
                    message=e.message,
                    message_en=e.message_en,
                    code=e.code,
                    line=e.line,
                    column=e.column,
                )
            )
            return None
        return expression

    def check_message(path: str, template: str) -> list[str]:
        try:
            names = placeholders(template)
        except ExpressionRefused as refused:
            e = refused.error
            errors.append(
                FieldError(field=path, message=e.message, message_en=e.message_en, code=e.code)
            )
            return []
        for name in names:
            if name not in FIELDS:
                errors.append(
                    FieldError(
                        field=path,
                        message=f"消息中的占位符 {{{name}}} 不是已知字段",
                        message_en=f"placeholder {{{name}}} is not a known field",
                        code="unknown_name",
                    )
                )
        return names

    segments = []
    for i, segment in enumerate(document.terms.segments):
        expression = compiled(f"terms.segments.{i}.when", segment.when, BOOLEAN, SEGMENT_FIELDS)
        segments.append(
            CompiledSegment(segment, expression, _segment_terms(default, segment.overrides))
        )
    rules = []
    for i, rule in enumerate(document.rules):
        expression = compiled(f"rules.{i}.when", rule.when, BOOLEAN)
        names_zh = check_message(f"rules.{i}.message_zh", rule.message_zh)
        names_en = check_message(f"rules.{i}.message_en", rule.message_en)
        rules.append(CompiledRule(rule, expression, names_zh, names_en))
    factors = []
    for i, factor in enumerate(document.scoring.factors):
        path = f"scoring.factors.{i}.points"
        factors.append(CompiledFactor(factor, compiled(path, factor.points, NUMBER)))
    if errors:
        raise PolicyInvalid(errors)
    texts = [r.spec.when for r in rules] + [f.spec.points for f in factors]
    combined = runtime_rule("[" + ",\n".join(f"({t})" for t in texts) + "]")
    return CompiledPolicy(document, rules, factors, segments, combined)


def add_months(start: date, months: int) -> date:
    """Same day ``months`` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def guarantee_fee(principal: Decimal, annual_rate: Decimal, days: int, basis: int = 360) -> Decimal:
    """``principal × rate × days / basis``, rounded half-up to the fen."""
    return round_to_fen(principal * annual_rate * days / basis)


@dataclass(frozen=True)
class Evaluation:
    decision: Decision
    score: int
    reasons: list[Reason]
    terms: ProposedTerms | None
    trace: dict[str, Any]


def _jsonable(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


def evaluate(policy: CompiledPolicy, request: AssessmentRequest) -> Evaluation:
    document = policy.document
    fields = application_fields(request)
    segment_code, terms = "default", document.terms.default
    errors: list[str] = []
    for segment in policy.segments:
        try:
            applies = segment.expression.evaluate(fields)
        except Exception as error:
            errors.append(f"segment {segment.spec.code}: {error}")
            continue
        if applies:
            segment_code, terms = segment.spec.code, segment.terms
            break
    fields.update(_limits(terms, segment_code))

    try:
        values = list(policy.combined.evaluate(fields))
    except Exception:
        values = []
        for item in [*policy.rules, *policy.factors]:
            try:
                values.append(item.expression.evaluate(fields))
            except Exception as error:
                errors.append(f"{item.spec.code}: {error}")
                values.append(None)
    rule_values, factor_values = values[: len(policy.rules)], values[len(policy.rules) :]

    reasons: list[Reason] = []
    rules_trace: list[dict[str, Any]] = []
    for rule, value in zip(policy.rules, rule_values, strict=True):
        spec = rule.spec
        passed = None if value is None else bool(value)
        rules_trace.append({"code": spec.code, "passed": passed})
        reasons.append(
            Reason(
                code=spec.code,
                passed=bool(passed),
                message_zh=render(spec.message_zh, rule.names_zh, fields),
                message_en=render(spec.message_en, rule.names_en, fields),
            )
        )

    scoring = document.scoring
    factors_trace: list[dict[str, Any]] = []
    total = Decimal(scoring.base)
    for factor, points in zip(policy.factors, factor_values, strict=True):
        if not points:
            continue
        weighted = Decimal(points) * factor.spec.weight
        total += weighted
        factors_trace.append(
            {"code": factor.spec.code, "label_zh": factor.spec.label_zh, "points": str(weighted)}
        )
    score = int(min(max(total.quantize(Decimal(1), rounding=ROUND_HALF_UP), 0), 100))

    bands = scoring.bands
    if any(r["passed"] is False for r in rules_trace):
        decision = Decision.INELIGIBLE
    elif errors:
        decision = Decision.REFERRED
        reasons.append(
            Reason(
                code="evaluation_error",
                passed=False,
                message_zh="部分规则无法计算，转区财政局人工复核",
                message_en="some rules could not be evaluated: referred to the bureau",
            )
        )
    elif score >= bands.eligible_from:
        decision = Decision.ELIGIBLE
    elif score >= bands.referred_from:
        decision = Decision.REFERRED
        reasons.append(
            Reason(
                code="score_below_threshold",
                passed=False,
                message_zh=f"评分 {score} 低于自动通过线 {bands.eligible_from}，转区财政局人工复核",
                message_en=f"score {score} below {bands.eligible_from}: referred to the bureau",
            )
        )
    else:
        decision = Decision.INELIGIBLE
        reasons.append(
            Reason(
                code="score_below_referral",
                passed=False,
                message_zh=f"评分 {score} 低于复核线 {bands.referred_from}",
                message_en=f"score {score} below the referral line {bands.referred_from}",
            )
        )
    proposed = (
        None
        if decision is Decision.INELIGIBLE
        else _terms(terms, segment_code, request, document.terms.day_count_basis)
    )
    trace = {
        "segment": segment_code,
        "fields": {name: _jsonable(value) for name, value in fields.items()},
        "rules": rules_trace,
        "base": scoring.base,
        "factors": factors_trace,
        "bands": bands.model_dump(),
        "errors": errors,
    }
    return Evaluation(decision=decision, score=score, reasons=reasons, terms=proposed, trace=trace)


def _terms(terms: TermSet, segment: str, request: AssessmentRequest, basis: int) -> ProposedTerms:
    amount = request.loan.amount
    days = (add_months(request.as_of, request.loan.term_months) - request.as_of).days
    annual_fee = round_to_fen(amount * terms.annual_fee_rate)
    annual_subsidy = round_to_fen(annual_fee * terms.fee_subsidy_share)
    fee = guarantee_fee(amount, terms.annual_fee_rate, days, basis)
    subsidy = round_to_fen(fee * terms.fee_subsidy_share)
    return ProposedTerms(
        guaranteed_amount=round_to_fen(amount * terms.coverage_ratio),
        coverage_ratio=terms.coverage_ratio,
        annual_fee_rate=terms.annual_fee_rate,
        fee_subsidy_share=terms.fee_subsidy_share,
        interest_subsidy_share=terms.interest_subsidy_share,
        annual_fee=annual_fee,
        annual_fee_subsidy=annual_subsidy,
        annual_fee_payable=annual_fee - annual_subsidy,
        term_months=request.loan.term_months,
        segment=segment,
        max_amount=terms.max_amount,
        fee_days=days,
        day_count_basis=basis,
        guarantee_fee=fee,
        guarantee_fee_subsidy=subsidy,
        guarantee_fee_payable=fee - subsidy,
    )
