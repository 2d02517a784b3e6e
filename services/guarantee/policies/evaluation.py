"""A compiled policy applied to one application: decision, score, reasons, terms and the
whole trace — each rule's verdict, each factor's points, the segment, the derived fields —
so that the assessment can be replayed and compared to the letter."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from services.guarantee.policies.compiler import CompiledPolicy, limits
from services.guarantee.policies.document import Bands, Terms, TermSet
from services.guarantee.policies.expressions import render, render_finding
from services.guarantee.policies.fees import add_months, fee_rules, fee_schedule
from services.guarantee.policies.fields import FirmExposure, application_fields
from shared.contracts.assessment import AssessmentRequest, Decision, ProposedTerms, Reason
from shared.money import round_to_fen


@dataclass(frozen=True)
class Evaluation:
    decision: Decision
    score: int
    reasons: list[Reason]
    terms: ProposedTerms | None
    trace: dict[str, Any]


def _jsonable(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


def _segment(
    policy: CompiledPolicy, fields: dict[str, Any], errors: list[str]
) -> tuple[str, TermSet]:
    """The first segment whose condition holds (its code and terms), else the default."""
    for segment in policy.segments:
        try:
            applies = segment.expression.evaluate(fields)
        except Exception as error:
            errors.append(f"segment {segment.spec.code}: {error}")
            continue
        if applies:
            return segment.spec.code, segment.terms
    return "default", policy.document.terms.default


def _values(policy: CompiledPolicy, fields: dict[str, Any], errors: list[str]) -> list[Any]:
    """Every rule's then every factor's value: at once, or one by one to find what failed."""
    try:
        return list(policy.combined.evaluate(fields))
    except Exception:
        values = []
        for item in [*policy.rules, *policy.factors]:
            try:
                values.append(item.expression.evaluate(fields))
            except Exception as error:
                errors.append(f"{item.spec.code}: {error}")
                values.append(None)
        return values


def _rules(
    policy: CompiledPolicy, values: list[Any], fields: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[Reason]]:
    trace: list[dict[str, Any]] = []
    reasons: list[Reason] = []
    for rule, value in zip(policy.rules, values, strict=True):
        spec = rule.spec
        passed = None if value is None else bool(value)
        trace.append({"code": spec.code, "passed": passed})
        requirement = render(spec.message_zh, rule.names_zh, fields)
        finding = None
        if not passed:
            finding = (
                render_finding(spec.failed_zh, rule.names_failed, fields)
                if spec.failed_zh
                else f"未满足：{requirement}"
            )
        reasons.append(
            Reason(
                code=spec.code,
                passed=bool(passed),
                message_zh=requirement,
                message_en=render(spec.message_en, rule.names_en, fields),
                finding_zh=finding,
            )
        )
    return trace, reasons


def _score(policy: CompiledPolicy, values: list[Any]) -> tuple[int, list[dict[str, Any]]]:
    """The base plus every factor's weighted points, rounded and kept within 0–100."""
    trace: list[dict[str, Any]] = []
    total = Decimal(policy.document.scoring.base)
    for factor, points in zip(policy.factors, values, strict=True):
        if not points:
            continue
        weighted = Decimal(points) * factor.spec.weight
        total += weighted
        trace.append(
            {"code": factor.spec.code, "label_zh": factor.spec.label_zh, "points": str(weighted)}
        )
    return int(min(max(total.quantize(Decimal(1), rounding=ROUND_HALF_UP), 0), 100)), trace


def _decision(
    rules: list[dict[str, Any]], errors: list[str], score: int, bands: Bands
) -> tuple[Decision, Reason | None]:
    """A failed rule refuses; a rule that could not be computed refers to the bureau;
    otherwise the score's band decides. The reason added when it is not a rule's."""
    if any(r["passed"] is False for r in rules):
        return Decision.INELIGIBLE, None
    if errors:
        return Decision.REFERRED, Reason(
            code="evaluation_error",
            passed=False,
            message_zh="部分规则无法计算，转区财政局人工复核",
            message_en="some rules could not be evaluated: referred to the bureau",
        )
    if score >= bands.eligible_from:
        return Decision.ELIGIBLE, None
    if score >= bands.referred_from:
        return Decision.REFERRED, Reason(
            code="score_below_threshold",
            passed=False,
            message_zh=f"评分 {score} 低于自动通过线 {bands.eligible_from}，转区财政局人工复核",
            message_en=f"score {score} below {bands.eligible_from}: referred to the bureau",
        )
    return Decision.INELIGIBLE, Reason(
        code="score_below_referral",
        passed=False,
        message_zh=f"评分 {score} 低于复核线 {bands.referred_from}",
        message_en=f"score {score} below the referral line {bands.referred_from}",
    )


def evaluate(
    policy: CompiledPolicy, request: AssessmentRequest, firm: FirmExposure = FirmExposure()
) -> Evaluation:
    document = policy.document
    fields = application_fields(request, firm)
    errors: list[str] = []
    segment_code, terms = _segment(policy, fields, errors)
    fields.update(limits(terms, segment_code))
    values = _values(policy, fields, errors)
    rules_trace, reasons = _rules(policy, values[: len(policy.rules)], fields)
    score, factors_trace = _score(policy, values[len(policy.rules) :])
    bands = document.scoring.bands
    decision, reason = _decision(rules_trace, errors, score, bands)
    if reason is not None:
        reasons.append(reason)
    proposed = (
        None
        if decision is Decision.INELIGIBLE
        else _terms(terms, segment_code, request, document.terms)
    )
    trace = {
        "segment": segment_code,
        "fields": {name: _jsonable(value) for name, value in fields.items()},
        "rules": rules_trace,
        "base": document.scoring.base,
        "factors": factors_trace,
        "bands": bands.model_dump(),
        "errors": errors,
    }
    return Evaluation(decision=decision, score=score, reasons=reasons, terms=proposed, trace=trace)


def _terms(
    terms: TermSet, segment: str, request: AssessmentRequest, policy: Terms
) -> ProposedTerms:
    """The terms proposed, the fee estimated by the very function that bills it after
    disbursal (fees.py): lent in full on the as-of day for the term, nothing repaid early."""
    amount = request.loan.amount
    maturity = add_months(request.as_of, request.loan.term_months)
    days = (maturity - request.as_of).days
    annual_fee = round_to_fen(amount * terms.annual_fee_rate)
    annual_subsidy = round_to_fen(annual_fee * terms.fee_subsidy_share)
    periods = fee_schedule(
        principal=amount,
        disbursed_on=request.as_of,
        maturity_on=maturity,
        rules=fee_rules(policy, terms.annual_fee_rate, terms.fee_subsidy_share),
    )
    fee = sum((p.fee for p in periods), Decimal(0))
    subsidy = sum((p.subsidy for p in periods), Decimal(0))
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
        day_count_basis=policy.day_count_basis,
        guarantee_fee=fee,
        guarantee_fee_subsidy=subsidy,
        guarantee_fee_payable=fee - subsidy,
        interest_subsidy_points=terms.interest_subsidy_points,
        interest_subsidy_months=terms.interest_subsidy_months,
        interest_subsidy_firm_annual_cap=terms.interest_subsidy_firm_annual_cap,
        fee_subsidy_firm_annual_cap=terms.fee_subsidy_firm_annual_cap,
    )
