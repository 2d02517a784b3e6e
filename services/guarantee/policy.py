"""The policy document and its evaluation.

A policy version is data (:class:`PolicyDocument`, stored as JSON): the bureau changes
districts, caps, rates and points without a deploy. This first engine evaluates a fixed
set of rule kinds whose parameters come from the document; every rule yields a verdict
with Chinese and English reasons, every scoring factor its points, and the whole is kept
as the assessment's trace.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.assessment import (
    AssessmentRequest,
    Decision,
    EnterpriseFlags,
    ProposedTerms,
    Reason,
)
from shared.money import Money, Rate, round_to_fen
from shared.sme import SECTORS, SmeSize, is_industrial


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Eligibility(_Strict):
    registered_districts: list[str] = Field(min_length=1)
    allowed_sizes: list[SmeSize] = Field(min_length=1)
    min_years_operating_industrial: int = Field(ge=0)
    min_years_operating_other: int = Field(ge=0)
    # GB/T 4754 code prefix → name, e.g. {"K701": "房地产开发经营"}
    excluded_industry_prefixes: dict[str, str]
    # 300号 sector keys refused even when no GB/T code was given
    excluded_sectors: list[str]


class Limits(_Strict):
    max_amount: Money
    max_amount_specialized: Money
    max_term_months: int = Field(ge=1)


class LeveragePenalty(_Strict):
    above_ratio: Decimal = Field(description="amount ÷ annual revenue above which points are lost")
    points: int


class Scoring(_Strict):
    base: int = Field(ge=0, le=100)
    flag_points: dict[str, int]
    mature_after_years: int = Field(ge=0)
    mature_points: int
    leverage_penalties: list[LeveragePenalty]
    eligible_from: int = Field(ge=0, le=100)


class Terms(_Strict):
    coverage_ratio: Rate
    coverage_ratio_specialized: Rate
    annual_fee_rate: Rate
    fee_subsidy_share: Rate
    interest_subsidy_share: Rate
    interest_subsidy_share_specialized: Rate


class BatchRisk(_Strict):
    warning_loss_rate: Rate
    suspension_loss_rate: Rate
    compensation_ceiling: Rate


class PolicyDocument(_Strict):
    name: str
    description: str = ""
    eligibility: Eligibility
    limits: Limits
    scoring: Scoring
    terms: Terms
    batch_risk: BatchRisk


def content_hash(document: dict[str, Any]) -> str:
    canonical = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def years_between(start: date, end: date) -> int:
    """Whole years from ``start`` to ``end`` (a firm founded 2020-03-01 is 1 on 2021-03-01)."""
    years = end.year - start.year
    if (end.month, end.day) < (start.month, start.day):
        years -= 1
    return max(years, 0)


_FLAG_NAMES = {
    name: field.description or name for name, field in EnterpriseFlags.model_fields.items()
}


@dataclass(frozen=True)
class Evaluation:
    decision: Decision
    score: int
    reasons: list[Reason]
    terms: ProposedTerms | None
    trace: dict[str, Any]


def evaluate(policy: PolicyDocument, request: AssessmentRequest) -> Evaluation:
    enterprise, loan = request.enterprise, request.loan
    flags = enterprise.flags
    specialized = flags.specialized_new or flags.little_giant
    years = years_between(enterprise.established_on, request.as_of)
    amount_to_revenue = (
        (loan.amount / enterprise.annual_revenue).quantize(Decimal("0.0001"))
        if enterprise.annual_revenue > 0
        else None
    )
    reasons: list[Reason] = []
    rules_trace: list[dict[str, Any]] = []

    def rule(
        code: str, passed: bool, ok: tuple[str, str], fail: tuple[str, str], **inputs: Any
    ) -> None:
        zh, en = ok if passed else fail
        reasons.append(Reason(code=code, passed=passed, message_zh=zh, message_en=en))
        rules_trace.append({"code": code, "passed": passed, "inputs": inputs})

    e = policy.eligibility
    district = enterprise.registered_district
    rule(
        "registered_in_district",
        district in e.registered_districts,
        (f"注册地为{district}", f"registered in {district}"),
        (
            f"注册地 {district} 不在本政策范围（{'、'.join(e.registered_districts)}）",
            f"registered in {district}, outside {', '.join(e.registered_districts)}",
        ),
        registered_district=district,
    )
    size = enterprise.sme_size
    rule(
        "sme_class",
        size in e.allowed_sizes,
        (
            f"按工信部联企业〔2011〕300号划型为{size.label_zh}企业",
            f"classed {size.value} under 300号",
        ),
        (
            f"按工信部联企业〔2011〕300号划型为{size.label_zh}企业，不属于支持对象",
            f"classed {size.value} under 300号: not an SME",
        ),
        sme_size=size.value,
        sme_sector=enterprise.sme_sector,
    )
    industrial = is_industrial(enterprise.sme_sector)
    min_years = e.min_years_operating_industrial if industrial else e.min_years_operating_other
    kind_zh = "工业企业" if industrial else "非工业企业"
    rule(
        "years_operating",
        years >= min_years,
        (
            f"已经营 {years} 年（{kind_zh}要求 ≥ {min_years} 年）",
            f"operating {years} years (≥ {min_years})",
        ),
        (
            f"经营年限 {years} 年，不足{kind_zh}要求的 {min_years} 年",
            f"operating {years} years, {kind_zh} need {min_years}",
        ),
        years_operating=years,
        required=min_years,
    )
    code = enterprise.industry_code or ""
    excluded_by_code = next(
        (name for prefix, name in e.excluded_industry_prefixes.items() if code.startswith(prefix)),
        None,
    )
    excluded_by_sector = (
        SECTORS[enterprise.sme_sector].name_zh
        if enterprise.sme_sector in e.excluded_sectors
        else None
    )
    excluded = excluded_by_code or excluded_by_sector
    rule(
        "sector_not_excluded",
        excluded is None,
        ("所属行业不在限制范围", "sector not excluded"),
        (f"所属行业（{excluded}）不在批次贷支持范围", f"sector excluded: {excluded}"),
        industry_code=enterprise.industry_code,
        sme_sector=enterprise.sme_sector,
    )
    rule(
        "no_serious_bad_credit",
        not flags.bad_credit_2y,
        ("近两年无严重失信记录", "no serious bad-credit record in 2 years"),
        (
            "企业、法定代表人或实际控制人近两年有严重失信记录",
            "serious bad-credit record of the firm, its representative or controller in 2 years",
        ),
    )
    rule(
        "no_threatening_lawsuit",
        not flags.pending_lawsuit,
        ("无影响偿债能力的未决诉讼", "no pending lawsuit threatening repayment"),
        ("存在影响偿债能力的未决诉讼", "a pending lawsuit threatens repayment"),
    )
    rule(
        "not_phase_out",
        not flags.phase_out_list,
        ("未列入“三高一低”淘汰名单", "not on the 三高一低 phase-out list"),
        ("列入“三高一低”淘汰名单", "on the 三高一低 phase-out list"),
    )
    cap = policy.limits.max_amount_specialized if specialized else policy.limits.max_amount
    cap_wan = (cap / 10000).normalize()
    rule(
        "amount_within_cap",
        loan.amount <= cap,
        (f"申请金额在单户上限 {cap_wan:f} 万元以内", f"amount within the cap of {cap}"),
        (
            f"申请金额 {loan.amount} 元超过单户上限 {cap_wan:f} 万元",
            f"amount {loan.amount} above the cap of {cap}",
        ),
        amount=str(loan.amount),
        cap=str(cap),
        specialized=specialized,
    )
    max_term = policy.limits.max_term_months
    rule(
        "term_within_cap",
        loan.term_months <= max_term,
        (f"期限 {loan.term_months} 个月，不超过 {max_term} 个月", f"term within {max_term} months"),
        (
            f"期限 {loan.term_months} 个月，超过上限 {max_term} 个月",
            f"term {loan.term_months} months above {max_term}",
        ),
        term_months=loan.term_months,
        cap=max_term,
    )

    s = policy.scoring
    factors: list[dict[str, Any]] = [{"code": "base", "points": s.base}]
    for flag, points in s.flag_points.items():
        if getattr(flags, flag, False):
            factors.append(
                {"code": f"flag:{flag}", "points": points, "label": _FLAG_NAMES.get(flag)}
            )
    if years >= s.mature_after_years:
        factors.append({"code": "mature", "points": s.mature_points, "years_operating": years})
    leverage = amount_to_revenue if amount_to_revenue is not None else Decimal("Infinity")
    penalty = next(
        (
            p
            for p in sorted(s.leverage_penalties, key=lambda p: p.above_ratio, reverse=True)
            if leverage > p.above_ratio
        ),
        None,
    )
    if penalty is not None:
        factors.append(
            {
                "code": "leverage",
                "points": penalty.points,
                "amount_to_revenue": str(amount_to_revenue)
                if amount_to_revenue is not None
                else None,
                "above": str(penalty.above_ratio),
            }
        )
    score = max(0, min(100, sum(f["points"] for f in factors)))

    hard_failures = [r for r in reasons if not r.passed]
    if hard_failures:
        decision = Decision.INELIGIBLE
    elif score >= s.eligible_from:
        decision = Decision.ELIGIBLE
    else:
        decision = Decision.REFERRED
        reasons.append(
            Reason(
                code="score_below_threshold",
                passed=False,
                message_zh=f"评分 {score} 低于自动通过线 {s.eligible_from}，转区财政局人工复核",
                message_en=f"score {score} below {s.eligible_from}: referred to the bureau",
            )
        )
    terms = None if decision is Decision.INELIGIBLE else _terms(policy, request, specialized)
    trace = {
        "derived": {
            "years_operating": years,
            "amount_to_revenue": str(amount_to_revenue) if amount_to_revenue is not None else None,
            "specialized": specialized,
            "industrial": industrial,
        },
        "rules": rules_trace,
        "factors": factors,
        "eligible_from": s.eligible_from,
    }
    return Evaluation(decision=decision, score=score, reasons=reasons, terms=terms, trace=trace)


def _terms(policy: PolicyDocument, request: AssessmentRequest, specialized: bool) -> ProposedTerms:
    t = policy.terms
    amount = request.loan.amount
    coverage = t.coverage_ratio_specialized if specialized else t.coverage_ratio
    annual_fee = round_to_fen(amount * t.annual_fee_rate)
    fee_subsidy = round_to_fen(annual_fee * t.fee_subsidy_share)
    return ProposedTerms(
        guaranteed_amount=round_to_fen(amount * coverage),
        coverage_ratio=coverage,
        annual_fee_rate=t.annual_fee_rate,
        fee_subsidy_share=t.fee_subsidy_share,
        interest_subsidy_share=(
            t.interest_subsidy_share_specialized if specialized else t.interest_subsidy_share
        ),
        annual_fee=annual_fee,
        annual_fee_subsidy=fee_subsidy,
        annual_fee_payable=annual_fee - fee_subsidy,
        term_months=request.loan.term_months,
    )
