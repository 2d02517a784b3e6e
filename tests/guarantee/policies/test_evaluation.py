"""The shipped policy, rule by rule, and properties of its arithmetic."""

import copy
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings

from services.guarantee.policies.compiler import compile_policy
from services.guarantee.policies.default_policy import default_policy
from services.guarantee.policies.document import PolicyDocument, content_hash
from services.guarantee.policies.evaluation import evaluate
from services.guarantee.policies.fees import add_months, fee_rules, fee_schedule
from services.guarantee.policies.fields import years_between
from shared.contracts.assessment import AssessmentRequest, Decision
from tests.guarantee.factories import make_request, requests

POLICY = compile_policy(PolicyDocument.model_validate(default_policy()))
request = make_request


def failed(evaluation: Any) -> set[str]:
    return {r.code for r in evaluation.reasons if not r.passed}


def test_plain_qingpu_manufacturer_is_eligible() -> None:
    result = evaluate(POLICY, request())
    assert result.decision is Decision.ELIGIBLE
    assert result.score == 65  # base 60 + 5 for operating ≥ 5 years
    assert failed(result) == set()
    assert result.trace["segment"] == "default"
    assert all(rule["passed"] for rule in result.trace["rules"])


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"enterprise__registered_district": "松江区"}, "registered_in_district"),
        ({"enterprise__sme_size": "large"}, "sme_class"),
        ({"enterprise__established_on": "2026-01-01"}, "years_operating"),
        (
            {"enterprise__industry_code": "J66", "enterprise__sme_sector": "other"},
            "sector_not_excluded",
        ),
        (
            {"enterprise__industry_code": "R9011", "enterprise__sme_sector": "other"},
            "sector_not_excluded",
        ),
        (
            {"enterprise__industry_code": "K7010", "enterprise__sme_sector": "other"},
            "sector_not_excluded",
        ),
        (
            {
                "enterprise__industry_code": None,
                "enterprise__sme_sector": "real_estate_development",
            },
            "sector_not_excluded",
        ),
        ({"enterprise__flags": {"bad_credit_2y": True}}, "no_serious_bad_credit"),
        ({"enterprise__flags": {"pending_lawsuit": True}}, "no_threatening_lawsuit"),
        ({"enterprise__flags": {"phase_out_list": True}}, "not_phase_out"),
        ({"loan__amount": "10000000.01"}, "amount_within_cap"),
        ({"loan__term_months": 37}, "term_within_cap"),
    ],
)
def test_each_hard_rule_alone_makes_an_application_ineligible(changes: dict, rule: str) -> None:
    result = evaluate(POLICY, request(**changes))
    assert result.decision is Decision.INELIGIBLE
    assert failed(result) == {rule}
    assert result.terms is None
    reason = next(r for r in result.reasons if r.code == rule)
    assert reason.message_zh and reason.message_en
    assert "{" not in reason.message_zh


def test_messages_show_the_application_and_the_limit() -> None:
    result = evaluate(POLICY, request(loan__amount="10000000.01"))
    reason = next(r for r in result.reasons if r.code == "amount_within_cap")
    assert reason.message_zh == "申请金额 10000000.01 元须不超过单户上限 10000000 元"
    district = next(
        r
        for r in evaluate(POLICY, request(enterprise__registered_district="松江区")).reasons
        if r.code == "registered_in_district"
    )
    assert district.message_zh == "注册地须在青浦区（本企业：松江区）"


def test_a_failed_rule_reads_as_what_was_found_not_as_the_requirement() -> None:
    result = evaluate(POLICY, request(enterprise__flags={"pending_lawsuit": True}))
    lawsuit = next(r for r in result.reasons if r.code == "no_threatening_lawsuit")
    assert lawsuit.message_zh == "无影响偿债能力的未决诉讼"
    assert lawsuit.finding_zh == "企业存在影响偿债能力的未决诉讼"
    capped = evaluate(POLICY, request(loan__amount="10000000.01"))
    cap = next(r for r in capped.reasons if r.code == "amount_within_cap")
    assert cap.finding_zh == "申请金额 ¥10,000,000.01 超过单户上限 ¥10,000,000.00"
    # Passed rules have nothing to report.
    assert all(r.finding_zh is None for r in capped.reasons if r.passed)


def test_a_rule_without_its_own_finding_is_reported_as_not_met() -> None:
    document = default_policy()
    document["rules"][5].pop("failed_zh")
    policy = compile_policy(PolicyDocument.model_validate(document))
    result = evaluate(policy, request(enterprise__flags={"pending_lawsuit": True}))
    lawsuit = next(r for r in result.reasons if r.code == "no_threatening_lawsuit")
    assert lawsuit.finding_zh == "未满足：无影响偿债能力的未决诉讼"


def test_operating_years_differ_for_industrial_and_other_firms() -> None:
    eighteen_months = "2025-05-01"
    industrial = evaluate(POLICY, request(enterprise__established_on=eighteen_months))
    service = evaluate(
        POLICY,
        request(
            enterprise__established_on=eighteen_months,
            enterprise__sme_sector="software_it",
            enterprise__industry_code="I65",
        ),
    )
    assert "years_operating" not in failed(industrial)
    assert "years_operating" in failed(service)


def test_specialized_firms_get_the_higher_cap_and_interest_subsidy() -> None:
    ordinary = evaluate(
        POLICY, request(loan__amount="20000000.00", enterprise__annual_revenue="90000000.00")
    )
    specialized = evaluate(
        POLICY,
        request(
            loan__amount="20000000.00",
            enterprise__annual_revenue="90000000.00",
            enterprise__flags={"specialized_new": True},
        ),
    )
    assert "amount_within_cap" in failed(ordinary)
    assert specialized.decision is Decision.ELIGIBLE
    assert specialized.trace["segment"] == "specialized"
    assert specialized.terms is not None
    assert specialized.terms.segment == "specialized"
    assert specialized.terms.max_amount == Decimal("30000000.00")
    assert specialized.terms.interest_subsidy_share == Decimal("0.3000")
    assert specialized.terms.coverage_ratio == Decimal("0.8000")
    assert specialized.terms.guaranteed_amount == Decimal("16000000.00")


def test_priority_points_are_traced() -> None:
    result = evaluate(
        POLICY,
        request(enterprise__flags={"little_giant": True, "high_tech": True, "key_industry": True}),
    )
    points = {f["code"]: f["points"] for f in result.trace["factors"]}
    assert points == {"little_giant": "15", "high_tech": "8", "key_industry": "8", "mature": "5"}
    assert result.trace["base"] == 60
    assert result.score == 96


def test_output_per_mu_and_debt_ratio_score() -> None:
    productive = evaluate(
        POLICY,
        request(
            enterprise__annual_revenue="90000000.00",
            enterprise__land_area_mu="10",  # 9,000 万元 ÷ 10 亩 = 900 万元/亩
        ),
    )
    assert productive.trace["fields"]["output_per_mu"] == "900.0000"
    assert {f["code"] for f in productive.trace["factors"]} == {"mature", "output_per_mu"}
    assert productive.score == 73
    indebted = evaluate(
        POLICY, request(enterprise__total_liabilities="8000000.00")
    )  # 8m / 9m assets = 0.8889
    assert indebted.trace["fields"]["debt_ratio"] == "0.8889"
    assert indebted.score == 55
    assert indebted.decision is Decision.REFERRED


def test_leverage_above_revenue_is_referred_and_far_above_is_refused() -> None:
    result = evaluate(POLICY, request(enterprise__annual_revenue="1500000.00"))
    assert result.decision is Decision.REFERRED
    assert result.score == 35
    assert failed(result) == {"score_below_threshold"}
    assert result.terms is not None
    worse = evaluate(
        POLICY,
        request(
            enterprise__annual_revenue="1500000.00", enterprise__total_liabilities="8500000.00"
        ),
    )
    assert worse.score == 25
    assert worse.decision is Decision.INELIGIBLE
    assert failed(worse) == {"score_below_referral"}


def test_fee_is_principal_times_rate_times_days_over_360() -> None:
    result = evaluate(POLICY, request(loan__amount="1234567.89"))
    terms = result.terms
    assert terms is not None
    assert terms.fee_days == 365  # 2026-11-25 → 2027-11-25
    # 1234567.89 × 0.005 × 365 / 360 = 6258.57333125
    assert terms.guarantee_fee == Decimal("6258.57")
    assert terms.guarantee_fee_subsidy == Decimal("3129.29")  # 3129.286…
    assert terms.guarantee_fee_payable == Decimal("3129.28")
    assert terms.annual_fee == Decimal("6172.84")  # 1234567.89 × 0.005 = 6172.83945


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2026, 11, 25), 14, date(2028, 1, 25)),
        (date(2026, 3, 15), 120, date(2036, 3, 15)),
    ],
)
def test_add_months_clamps_to_month_end(start: date, months: int, end: date) -> None:
    assert add_months(start, months) == end


@pytest.mark.parametrize(
    ("start", "end", "years"),
    [
        (date(2020, 3, 1), date(2021, 3, 1), 1),
        (date(2020, 3, 2), date(2021, 3, 1), 0),
        (date(2020, 2, 29), date(2021, 2, 28), 0),
        (date(2020, 2, 29), date(2021, 3, 1), 1),
        (date(2030, 1, 1), date(2021, 1, 1), 0),
    ],
)
def test_years_between(start: date, end: date, years: int) -> None:
    assert years_between(start, end) == years


def test_content_hash_ignores_key_order() -> None:
    document = default_policy()
    reordered = dict(reversed(list(document.items())))
    assert content_hash(reordered) == content_hash(document)
    changed = copy.deepcopy(document)
    changed["scoring"]["base"] = 61
    assert content_hash(changed) != content_hash(document)


@settings(max_examples=2000, deadline=None)
@given(requests)
def test_evaluation_is_deterministic_and_exact(req: AssessmentRequest) -> None:
    first = evaluate(POLICY, req)
    again = evaluate(POLICY, AssessmentRequest.model_validate_json(req.model_dump_json()))
    assert (first.decision, first.score, first.reasons, first.terms, first.trace) == (
        again.decision,
        again.score,
        again.reasons,
        again.terms,
        again.trace,
    )
    assert first.trace["errors"] == []
    assert 0 <= first.score <= 100
    hard_failures = failed(first) - {"score_below_threshold", "score_below_referral"}
    assert (first.decision is Decision.INELIGIBLE) == bool(
        hard_failures or "score_below_referral" in failed(first)
    )
    if first.terms is not None:
        t = first.terms
        assert t.guarantee_fee_subsidy + t.guarantee_fee_payable == t.guarantee_fee
        assert Decimal(0) <= t.guarantee_fee_payable <= t.guarantee_fee
        assert t.guaranteed_amount <= req.loan.amount
        for amount in (t.guarantee_fee, t.guarantee_fee_subsidy, t.guaranteed_amount):
            assert amount == amount.quantize(Decimal("0.01"))
        # The estimate is the schedule billed for a loan lent in full that day: one
        # rounding per period, so within half a fen a period of the exact figure.
        maturity = add_months(req.as_of, req.loan.term_months)
        billed = fee_schedule(
            principal=req.loan.amount,
            disbursed_on=req.as_of,
            maturity_on=maturity,
            rules=fee_rules(POLICY.document.terms, t.annual_fee_rate, t.fee_subsidy_share),
        )
        assert t.guarantee_fee == sum(p.fee for p in billed)
        assert t.guarantee_fee_subsidy == sum(p.subsidy for p in billed)
        exact = req.loan.amount * t.annual_fee_rate * t.fee_days / 360
        # The published cap (a share of principal a year, rounded down per period) may bill
        # less than the rate: ¥1.19 for 304 days at 0.5 % is 0.005 exactly, capped to 0.00.
        cap = POLICY.document.terms.annual_fee_cap
        low = min(exact, req.loan.amount * cap * t.fee_days / 366) if cap is not None else exact
        periods = len(billed)
        assert low - Decimal("0.01") * periods <= t.guarantee_fee
        assert t.guarantee_fee <= exact + Decimal("0.005") * periods
        assert t.fee_days == (add_months(req.as_of, req.loan.term_months) - req.as_of).days
