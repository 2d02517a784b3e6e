"""A guarantee's fee schedule (policies/fees.py): the policy's mechanics (day count, base,
period, the 1 %-a-year ceiling), and what a release (解保) leaves of it."""

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from services.guarantee.policies.fees import FeeRules, add_months, fee_schedule, released_schedule

PRINCIPAL = st.integers(1, 3_000_000_000).map(lambda fen: Decimal(fen) / 100)
DAY = st.dates(min_value=date(2021, 1, 1), max_value=date(2030, 12, 31))
RATE = st.integers(1, 99).map(lambda bp: Decimal(bp) / 10000)
SHARE = st.integers(0, 100).map(lambda pct: Decimal(pct) / 100)
RULES = FeeRules(rate=Decimal("0.0050"), subsidy_share=Decimal("0.5"))


def schedule(principal: Decimal, start: date, months: int, rules: FeeRules) -> list:
    return fee_schedule(
        principal=principal,
        disbursed_on=start,
        maturity_on=start + timedelta(days=30 * months),
        rules=rules,
    )


def test_a_loan_settled_after_28_days_pays_28_days_of_fee() -> None:
    principal, start = Decimal("2000000.00"), date(2026, 1, 5)
    periods = schedule(principal, start, 24, RULES)
    cut = released_schedule(
        periods, released_on=date(2026, 2, 2), disbursed_on=start, principal=principal, rules=RULES
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
        disbursed_on=start,
        principal=principal,
        rules=replace(RULES, release_refund="none"),
    )
    assert whole == periods[:1]  # the year begun is billed whole; nothing after it


def test_actual_360_never_takes_a_fee_past_1_percent_of_principal_a_year() -> None:
    """0.99 % × 365 / 360 would be 1.004 % of principal: the policy's ceiling holds it at
    1 %; without the ceiling it is the day count's figure."""
    rules = FeeRules(rate=Decimal("0.0099"), subsidy_share=Decimal("0"))
    start = date(2025, 3, 1)
    periods = fee_schedule(
        principal=Decimal("1000000.00"),
        disbursed_on=start,
        maturity_on=add_months(start, 24),
        rules=rules,
    )
    assert [(p.days, p.fee) for p in periods] == [(365, Decimal("10000.00"))] * 2
    uncapped = fee_schedule(
        principal=Decimal("1000000.00"),
        disbursed_on=start,
        maturity_on=add_months(start, 24),
        rules=replace(rules, annual_cap=None),
    )
    assert [p.fee for p in uncapped] == [Decimal("10037.50")] * 2


def test_an_amortising_loan_pays_each_period_on_what_it_still_owes() -> None:
    """Fee base ``outstanding``: ¥3,000,000 over three years, ¥1,000,000 repaid at each
    anniversary: the years are billed on 3, 2 and 1 million (half what the principal would
    cost), a repayment on a period's first day counted in it."""
    start = date(2025, 6, 1)
    paid = {add_months(start, 12): Decimal(1000000), add_months(start, 24): Decimal(1000000)}

    def outstanding_on(day: date) -> Decimal:
        return Decimal(3000000) - sum((v for d, v in paid.items() if d <= day), Decimal(0))

    rules = replace(RULES, base="outstanding", basis=365)
    periods = fee_schedule(
        principal=Decimal("3000000.00"),
        disbursed_on=start,
        maturity_on=add_months(start, 36),
        rules=rules,
        outstanding_on=outstanding_on,
    )
    assert [p.base for p in periods] == [Decimal(3000000), Decimal(2000000), Decimal(1000000)]
    # 3,000,000 × 0.5 % × 365 / 365; … the third year holds 2028-02-29: × 366 / 365
    assert [p.fee for p in periods] == [
        Decimal("15000.00"),
        Decimal("10000.00"),
        Decimal("5013.70"),
    ]
    on_principal = fee_schedule(
        principal=Decimal("3000000.00"),
        disbursed_on=start,
        maturity_on=add_months(start, 36),
        rules=replace(rules, base="principal"),
        outstanding_on=outstanding_on,
    )
    assert sum(p.fee for p in on_principal) == Decimal("45041.10")  # vs 30,013.70


def test_quarterly_periods_fall_due_each_quarter() -> None:
    start = date(2026, 1, 31)
    periods = fee_schedule(
        principal=Decimal("1000000.00"),
        disbursed_on=start,
        maturity_on=add_months(start, 12),
        rules=replace(RULES, period_months=3),
    )
    assert [p.period_from for p in periods] == [
        date(2026, 1, 31),
        date(2026, 4, 30),
        date(2026, 7, 31),
        date(2026, 10, 31),
    ]
    assert sum(p.days for p in periods) == 365


@given(
    PRINCIPAL,
    DAY,
    st.integers(1, 60),
    RATE,
    SHARE,
    st.sampled_from([1, 3, 6, 12]),
    st.sampled_from([360, 365]),
)
def test_no_loan_year_is_billed_over_the_ceiling(
    principal: Decimal, start: date, months: int, rate: Decimal, share: Decimal, n: int, basis: int
) -> None:
    rules = FeeRules(rate=rate, subsidy_share=share, basis=basis, period_months=n)
    periods = fee_schedule(
        principal=principal,
        disbursed_on=start,
        maturity_on=add_months(start, months),
        rules=rules,
    )
    for year in range(0, months, 12):
        first, last = add_months(start, year), add_months(start, year + 12)
        billed = sum(p.fee for p in periods if first <= p.period_from < last)
        assert billed <= principal * Decimal("0.01")
    assert all(p.subsidy + p.payable == p.fee and p.subsidy <= p.fee for p in periods)
    assert sum(p.days for p in periods) == (add_months(start, months) - start).days


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
    rules = FeeRules(
        rate=rate, subsidy_share=share, release_refund="pro_rata" if pro_rata else "none"
    )
    periods = schedule(principal, start, months, rules)
    released_on = start + timedelta(days=offset)
    cut = released_schedule(
        periods, released_on=released_on, disbursed_on=start, principal=principal, rules=rules
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
