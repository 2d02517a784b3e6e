"""The shipped policy, rule by rule, and properties of its arithmetic."""

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.guarantee.default_policy import DEFAULT_POLICY
from services.guarantee.policy import PolicyDocument, content_hash, evaluate, years_between
from shared.contracts.assessment import AssessmentRequest, Decision
from shared.sme import SECTORS, SmeSize
from tests.guarantee.factories import make_request

POLICY = PolicyDocument.model_validate(DEFAULT_POLICY)
request = make_request


def failed(evaluation: Any) -> set[str]:
    return {r.code for r in evaluation.reasons if not r.passed}


def test_plain_qingpu_manufacturer_is_eligible() -> None:
    result = evaluate(POLICY, request())
    assert result.decision is Decision.ELIGIBLE
    assert result.score == 65  # base 60 + 5 for operating ≥ 5 years
    assert failed(result) == set()


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
    assert specialized.terms is not None
    assert specialized.terms.interest_subsidy_share == Decimal("0.3000")
    assert specialized.terms.guaranteed_amount == Decimal("16000000.00")


def test_priority_points_are_traced() -> None:
    result = evaluate(
        POLICY,
        request(enterprise__flags={"little_giant": True, "high_tech": True, "key_industry": True}),
    )
    codes = {f["code"]: f["points"] for f in result.trace["factors"]}
    assert codes == {
        "base": 60,
        "flag:little_giant": 15,
        "flag:high_tech": 8,
        "flag:key_industry": 8,
        "mature": 5,
    }
    assert result.score == 96


def test_leverage_above_revenue_is_referred() -> None:
    result = evaluate(POLICY, request(enterprise__annual_revenue="1500000.00"))
    assert result.decision is Decision.REFERRED
    assert result.score == 35
    assert failed(result) == {"score_below_threshold"}
    assert result.terms is not None


def test_fee_terms_are_exact() -> None:
    result = evaluate(POLICY, request(loan__amount="1234567.89"))
    assert result.terms is not None
    assert result.terms.annual_fee == Decimal("6172.84")  # 1234567.89 × 0.005 = 6172.83945
    assert result.terms.annual_fee_subsidy == Decimal("3086.42")
    assert result.terms.annual_fee_payable == Decimal("3086.42")


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
    reordered = dict(reversed(list(DEFAULT_POLICY.items())))
    assert content_hash(reordered) == content_hash(DEFAULT_POLICY)


requests = st.builds(
    lambda district, size, sector, years, revenue_fen, amount_fen, term, flags: request(
        enterprise__registered_district=district,
        enterprise__sme_size=size,
        enterprise__sme_sector=sector,
        enterprise__industry_code=None,
        enterprise__established_on=date(2026 - years, 6, 1).isoformat(),
        enterprise__annual_revenue=str(Decimal(revenue_fen) / 100),
        enterprise__flags=flags,
        loan__amount=str(Decimal(amount_fen) / 100),
        loan__term_months=term,
    ),
    st.sampled_from(["青浦区", "嘉定区"]),
    st.sampled_from([s.value for s in SmeSize]),
    st.sampled_from(sorted(SECTORS)),
    st.integers(0, 40),
    st.integers(0, 10**11),
    st.integers(1, 5 * 10**9),
    st.integers(1, 120),
    st.fixed_dictionaries(
        {},
        optional={
            k: st.booleans()
            for k in (
                "specialized_new",
                "little_giant",
                "high_tech",
                "tech_sme",
                "key_industry",
                "bad_credit_2y",
                "pending_lawsuit",
                "phase_out_list",
            )
        },
    ),
)


@settings(max_examples=2000, deadline=None)
@given(requests)
def test_evaluation_is_deterministic_and_consistent(req: AssessmentRequest) -> None:
    first = evaluate(POLICY, req)
    again = evaluate(POLICY, AssessmentRequest.model_validate_json(req.model_dump_json()))
    assert (first.decision, first.score, first.reasons, first.terms, first.trace) == (
        again.decision,
        again.score,
        again.reasons,
        again.terms,
        again.trace,
    )
    assert 0 <= first.score <= 100
    hard_failures = failed(first) - {"score_below_threshold"}
    assert (first.decision is Decision.INELIGIBLE) == bool(hard_failures)
    if first.terms is not None:
        t = first.terms
        assert t.annual_fee_subsidy + t.annual_fee_payable == t.annual_fee
        assert Decimal(0) <= t.annual_fee_payable <= t.annual_fee
        assert t.guaranteed_amount <= req.loan.amount
        for amount in (t.annual_fee, t.annual_fee_subsidy, t.guaranteed_amount):
            assert amount == amount.quantize(Decimal("0.01"))
        assert abs(t.annual_fee - req.loan.amount * t.annual_fee_rate) <= Decimal("0.005")
