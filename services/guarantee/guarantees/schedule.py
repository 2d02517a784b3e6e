"""A guarantee's fee schedule: billed per year of the loan from disbursal to maturity, and
cut when the guarantee is released (解保) before maturity. Pure arithmetic.

Each period's fee is ``principal × rate × days / basis`` rounded half-up to the fen, its
subsidy that fee × the subsidy share, rounded the same way, and what the SME pays the
difference; the totals are the sums, so the schedule always adds up.
"""

from datetime import date
from decimal import Decimal

from services.guarantee.guarantees.schemas import FeePeriod
from services.guarantee.policies.fees import add_months, guarantee_fee
from shared.money import round_to_fen


def _period(
    start: date, end: date, principal: Decimal, rate: Decimal, share: Decimal, basis: int
) -> FeePeriod:
    days = (end - start).days
    fee = guarantee_fee(principal, rate, days, basis)
    subsidy = round_to_fen(fee * share)
    return FeePeriod(
        period_from=start, period_to=end, days=days, fee=fee, subsidy=subsidy, payable=fee - subsidy
    )


def fee_schedule(
    *,
    principal: Decimal,
    disbursed_on: date,
    maturity_on: date,
    rate: Decimal,
    subsidy_share: Decimal,
    basis: int,
) -> list[FeePeriod]:
    periods = []
    start, year = disbursed_on, 1
    while start < maturity_on:
        end = min(add_months(disbursed_on, 12 * year), maturity_on)
        periods.append(_period(start, end, principal, rate, subsidy_share, basis))
        start, year = end, year + 1
    return periods


def released_schedule(
    periods: list[FeePeriod],
    *,
    released_on: date,
    refund: str,
    principal: Decimal,
    rate: Decimal,
    subsidy_share: Decimal,
    basis: int,
) -> list[FeePeriod]:
    """The schedule of a guarantee released on ``released_on`` (its first day without the
    fund): no period that starts on or after it; the period it falls in cut to the days
    guaranteed (``refund == "pro_rata"``) or kept whole (``"none"``)."""
    kept = []
    for period in periods:
        if period.period_from >= released_on:
            break
        if period.period_to > released_on and refund == "pro_rata":
            period = _period(period.period_from, released_on, principal, rate, subsidy_share, basis)
        kept.append(period)
    return kept
