"""贴息 of a loan, month by month (ledger/interest_subsidy.py): the share or the points, one
rounding per loan and month, none while overdue, within the duration and the firm's cap."""

import uuid
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from services.bank_gateway.ledger.interest_subsidy import (
    LoanLife,
    Month,
    SubsidyTerms,
    capped,
    capped_per_firm,
    months_of,
)

SHARE = SubsidyTerms(share=Decimal("0.30"))


def life(
    payments: list[tuple[str, int, int]],
    *,
    overdue: tuple[str, ...] = (),
    terms: SubsidyTerms = SHARE,
    uscc: str = "91310118MA1JL0000X",
    disbursed_on: str = "2025-01-10",
) -> LoanLife:
    return LoanLife(
        loan_id=uuid.uuid4(),
        bank_code="srcb",
        uscc=uscc,
        disbursed_on=date.fromisoformat(disbursed_on),
        disbursed_fen=100_000_000,  # ¥1,000,000
        payments=tuple((date.fromisoformat(d), p, i) for d, p, i in payments),
        overdue_since=tuple(date.fromisoformat(d) for d in overdue),
        terms=terms,
    )


def test_no_subsidy_on_the_interest_that_cures_an_overdue() -> None:
    """Overdue from 3 March; the 20 March repayment cures it and pays the overdue interest:
    none of its interest is subsidised; April's repayment is again."""
    loan = life(
        [("2025-02-10", 0, 300_000), ("2025-03-20", 0, 450_000), ("2025-04-10", 0, 300_000)],
        overdue=("2025-03-03",),
    )
    months = months_of(loan, date(2025, 1, 1), date(2025, 4, 30))
    assert months["2025-02"] == Month(1, 300_000, 0, 90_000)
    assert months["2025-03"] == Month(1, 450_000, 450_000, 0)
    assert months["2025-04"] == Month(1, 300_000, 0, 90_000)


def test_a_repayment_made_before_the_loan_fell_overdue_keeps_its_subsidy() -> None:
    loan = life([("2025-03-01", 0, 300_000)], overdue=("2025-03-03",))
    assert months_of(loan, date(2025, 3, 1), date(2025, 3, 31))["2025-03"].subsidy_fen == 90_000


def test_no_subsidy_after_its_duration() -> None:
    """24 months from 10 January 2025: a payment on 9 January 2027 has it, one on the
    10th does not."""
    loan = life(
        [("2027-01-09", 0, 100_000), ("2027-01-10", 0, 100_000)],
        terms=SubsidyTerms(share=Decimal("0.30"), months=24),
    )
    [january] = months_of(loan, date(2027, 1, 1), date(2027, 1, 31)).values()
    assert january == Month(2, 200_000, 100_000, 30_000)


def test_points_on_the_outstanding_day_by_day() -> None:
    """1.5 points a year on ¥1,000,000 for the 31 days of March, ¥400,000 repaid on the
    16th (counted from the 17th): (16 × 1,000,000 + 15 × 600,000) × 1.5 % / 360 =
    1,041.67; overdue from the 25th until the cure on the 28th: 3 days fewer."""
    terms = SubsidyTerms(points=Decimal("0.015"))
    loan = life([("2025-03-16", 40_000_000, 0)], terms=terms)
    assert months_of(loan, date(2025, 3, 1), date(2025, 3, 31))["2025-03"].subsidy_fen == 104_167
    late = life(
        [("2025-03-16", 40_000_000, 0), ("2025-03-28", 0, 10_000)],
        terms=terms,
        overdue=("2025-03-25",),
    )
    # (25,000,000 − 3 × 600,000) × 1.5 % / 360 = 966.67, rounded once
    assert months_of(late, date(2025, 3, 1), date(2025, 3, 31))["2025-03"].subsidy_fen == 96_667


def test_a_firms_annual_cap_is_granted_in_month_order_and_starts_again_each_year() -> None:
    terms = SubsidyTerms(share=Decimal("0.30"), firm_annual_cap_fen=100_000)
    first = life([("2025-02-10", 0, 200_000), ("2025-03-10", 0, 200_000)], terms=terms)
    second = life([("2025-02-20", 0, 200_000), ("2026-01-10", 0, 200_000)], terms=terms)
    lives = [
        (capped(x), months_of(x, date(2025, 1, 1), date(2026, 12, 31))) for x in (first, second)
    ]
    granted = {
        (k[0] == first.loan_id, k[1]): m.subsidy_fen for k, m in capped_per_firm(lives).items()
    }
    # February: 60,000 + 40,000 (of 60,000); March: nothing left; 2026: a new year.
    assert sum(v for (_, month), v in granted.items() if month.startswith("2025")) == 100_000
    assert granted[(False, "2026-01")] == 60_000
    assert granted[(True, "2025-03")] == 0


PAYMENT = st.tuples(
    st.integers(0, 400), st.integers(0, 1_000_000), st.integers(0, 2_000_000)
)  # days after disbursal, principal fen, interest fen


@settings(max_examples=200, deadline=None)
@given(
    st.lists(PAYMENT, max_size=12),
    st.lists(st.integers(0, 400), max_size=3),
    st.sampled_from([None, 6, 12]),
    st.sampled_from([None, 50_000]),
    st.booleans(),
)
def test_subsidy_never_more_than_the_policy_allows(
    paid: list[tuple[int, int, int]],
    overdue: list[int],
    months: int | None,
    cap: int | None,
    by_points: bool,
) -> None:
    start = date(2025, 1, 10)
    terms = SubsidyTerms(
        share=Decimal("0.30"),
        points=Decimal("0.015") if by_points else None,
        months=months,
        firm_annual_cap_fen=cap,
    )
    loan = LoanLife(
        loan_id=uuid.uuid4(),
        bank_code="srcb",
        uscc="91310118MA1JL0000X",
        disbursed_on=start,
        disbursed_fen=100_000_000,
        payments=tuple((start + timedelta(days=d), p, i) for d, p, i in paid),
        overdue_since=tuple(start + timedelta(days=d) for d in overdue),
        terms=terms,
    )
    months_ = months_of(loan, date(2025, 1, 1), date(2026, 12, 31))
    granted = capped_per_firm([(capped(loan), months_)])
    for month, m in months_.items():
        assert 0 <= m.unsubsidised_fen <= m.interest_fen
        if not by_points:  # a share of what was paid and not excluded, rounded once
            assert abs(m.subsidy_fen - (m.interest_fen - m.unsubsidised_fen) * 0.3) <= 0.5
        assert granted[(loan.loan_id, month)].subsidy_fen <= m.subsidy_fen
    for year in ("2025", "2026"):
        in_year = sum(m.subsidy_fen for (_, mo), m in granted.items() if mo.startswith(year))
        assert cap is None or in_year <= cap
