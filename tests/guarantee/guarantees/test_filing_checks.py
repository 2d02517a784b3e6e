"""备案 checked against the batch and the frozen terms (guarantees/filing.py): each
finding, and a filing that holds."""

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from services.guarantee.guarantees.filing import FilingTerms, findings
from shared.contracts.guarantee import GuaranteeFiling

TERMS = FilingTerms(
    max_term_months=36,
    max_annual_rate=Decimal("0.06"),
    maturity_grace_days=31,
    assessed_amount=Decimal("2000000.00"),
)
TODAY = date(2026, 12, 3)


def filing(**changes: Any) -> GuaranteeFiling:
    facts: dict[str, Any] = {
        "loan_id": uuid.uuid4(),
        "application_id": uuid.uuid4(),
        "batch_id": uuid.uuid4(),
        "bank_code": "srcb",
        "principal": "2000000.00",
        "disbursed_on": "2026-06-10",
        "maturity_on": "2027-06-10",
        "term_months": 12,
        "annual_interest_rate": "0.0385",
        "approved_amount": "2000000.00",
        "approved_on": "2026-06-09",
        "allocated_amount": "2000000.00",
        "batch_valid_from": "2026-06-01",
        "batch_valid_to": "2026-12-31",
    }
    return GuaranteeFiling.model_validate(facts | changes)


def test_a_filing_that_fits_its_batch_and_terms_holds() -> None:
    assert findings(filing(), TERMS, today=TODAY) == []
    # The last day of the window and the last day of grace still fit.
    edge = filing(disbursed_on="2026-06-01", approved_on="2026-06-01", maturity_on="2027-07-02")
    assert findings(edge, TERMS, today=TODAY) == []


def test_a_filing_queued_before_the_batch_facts_were_sent_is_checked_on_what_it_has() -> None:
    bare = {k: None for k in ("term_months", "annual_interest_rate", "approved_amount")}
    bare |= {k: None for k in ("approved_on", "allocated_amount")}
    bare |= {"batch_valid_from": None, "batch_valid_to": None}
    assert findings(filing(**bare), TERMS, today=TODAY) == []
    assert findings(filing(**bare, principal="2000000.01"), TERMS, today=TODAY) == [
        "放款金额 ¥2,000,000.01 超过评估的申请金额 ¥2,000,000.00"
    ]


@pytest.mark.parametrize(
    ("changes", "finding"),
    [
        (
            {"disbursed_on": "2026-05-31", "approved_on": "2026-05-30"},
            "放款日 2026-05-31 不在批次有效期 2026-06-01 至 2026-12-31 内",
        ),
        (
            {"batch_valid_to": "2026-06-09"},
            "放款日 2026-06-10 不在批次有效期 2026-06-01 至 2026-06-09 内",
        ),
        (
            {"principal": "1500000.00", "approved_amount": "1000000.00"},
            "放款金额 ¥1,500,000.00 超过银行批准金额 ¥1,000,000.00",
        ),
        (
            {
                "principal": "1000000.00",
                "approved_amount": "1000000.00",
                "allocated_amount": "900000.00",
            },
            "批准金额 ¥1,000,000.00 超过批次分配金额 ¥900,000.00",
        ),
        ({"approved_on": "2026-06-11"}, "放款日 2026-06-10 早于批准日 2026-06-11"),
        (
            {
                "disbursed_on": "2026-12-04",
                "approved_on": "2026-12-01",
                "batch_valid_to": "2026-12-31",
                "maturity_on": "2027-12-04",
            },
            "放款日 2026-12-04 晚于今天 2026-12-03",
        ),
        ({"maturity_on": "2026-06-10"}, "到期日 2026-06-10 不晚于放款日 2026-06-10"),
        (
            {"maturity_on": "2027-07-12"},
            "到期日 2027-07-12 晚于放款日加期限 12 个月（另宽限 31 天）的 2027-07-11",
        ),
        (
            {"term_months": 48, "maturity_on": "2030-06-10"},
            "贷款期限 48 个月超过政策上限 36 个月",
        ),
        ({"annual_interest_rate": "0.0650"}, "贷款年利率 6.5 % 超过政策上限 6 %"),
    ],
)
def test_each_finding_names_the_figure_and_its_bound(changes: dict[str, Any], finding: str) -> None:
    assert findings(filing(**changes), TERMS, today=TODAY) == [finding]


def test_every_finding_is_listed_not_just_the_first() -> None:
    found = findings(
        filing(annual_interest_rate="0.08", disbursed_on="2027-01-05", maturity_on="2028-01-05"),
        TERMS,
        today=TODAY,
    )
    assert len(found) == 3
    assert found[0].startswith("放款日 2027-01-05 不在批次有效期")
    assert found[1] == "放款日 2027-01-05 晚于今天 2026-12-03"
    assert found[2] == "贷款年利率 8 % 超过政策上限 6 %"


def test_no_rate_cap_in_the_policy_means_any_rate() -> None:
    open_terms = FilingTerms(36, None, 31, Decimal("2000000.00"))
    assert findings(filing(annual_interest_rate="0.12"), open_terms, today=TODAY) == []
