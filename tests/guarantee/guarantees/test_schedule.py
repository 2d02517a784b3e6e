"""A guarantee's fee schedule, and what a release (解保) leaves of it."""

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from services.guarantee.guarantees.schedule import fee_schedule, released_schedule

PRINCIPAL = st.integers(1, 3_000_000_000).map(lambda fen: Decimal(fen) / 100)
DAY = st.dates(min_value=date(2021, 1, 1), max_value=date(2030, 12, 31))
RATE = st.integers(1, 99).map(lambda bp: Decimal(bp) / 10000)
SHARE = st.integers(0, 100).map(lambda pct: Decimal(pct) / 100)


def schedule(principal: Decimal, start: date, months: int, rate: Decimal, share: Decimal) -> list:
    return fee_schedule(
        principal=principal,
        disbursed_on=start,
        maturity_on=start + timedelta(days=30 * months),
        rate=rate,
        subsidy_share=share,
        basis=360,
    )


def test_a_loan_settled_after_28_days_pays_28_days_of_fee() -> None:
    periods = schedule(
        Decimal("2000000.00"), date(2026, 1, 5), 24, Decimal("0.0050"), Decimal("0.5")
    )
    cut = released_schedule(
        periods,
        released_on=date(2026, 2, 2),
        refund="pro_rata",
        principal=Decimal("2000000.00"),
        rate=Decimal("0.0050"),
        subsidy_share=Decimal("0.5"),
        basis=360,
    )
    [only] = cut
    # 2,000,000 × 0.5 % × 28 / 360 = 777.78; half of it subsidised (388.89)
    assert (only.period_to, only.days, only.fee, only.subsidy) == (
        date(2026, 2, 2),
        28,
        Decimal("777.78"),
        Decimal("388.89"),
    )
    whole = released_schedule(
        periods,
        released_on=date(2026, 2, 2),
        refund="none",
        principal=Decimal("2000000.00"),
        rate=Decimal("0.0050"),
        subsidy_share=Decimal("0.5"),
        basis=360,
    )
    assert whole == periods[:1]  # the year begun is billed whole; nothing after it


@given(PRINCIPAL, DAY, st.integers(1, 60), RATE, SHARE, st.integers(-30, 2000), st.booleans())
def test_nothing_is_billed_after_a_release(
    principal: Decimal,
    start: date,
    months: int,
    rate: Decimal,
    share: Decimal,
    offset: int,
    pro_rata: bool,
) -> None:
    periods = schedule(principal, start, months, rate, share)
    released_on = start + timedelta(days=offset)
    cut = released_schedule(
        periods,
        released_on=released_on,
        refund="pro_rata" if pro_rata else "none",
        principal=principal,
        rate=rate,
        subsidy_share=share,
        basis=360,
    )
    assert all(p.period_from < released_on for p in cut)
    if pro_rata:
        assert all(p.period_to <= released_on for p in cut)
        guaranteed = (min(released_on, periods[-1].period_to) - start).days
        assert sum(p.days for p in cut) == max(0, guaranteed)
    assert sum(p.fee for p in cut) <= sum(p.fee for p in periods)
    assert all(p.subsidy + p.payable == p.fee for p in cut)
    if released_on >= periods[-1].period_to:
        assert cut == periods  # released at or after maturity: the schedule as issued
