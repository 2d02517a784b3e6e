"""Fee arithmetic, one function for the estimate the SME is shown before disbursal and the
schedule billed after it (so the two never differ by a fen).

A guarantee is billed per period (the policy's ``fee_period_months``, a year unless it
says otherwise) from disbursal to maturity, each period falling due on its first day:

    fee     = base × rate × days / basis            rounded half-up to the fen
            ≤ base × annual_fee_cap × days / days of that loan year   (rounded down)
    subsidy = fee × subsidy share                   rounded half-up
    payable = fee − subsidy

The base is the original principal, or (``fee_base: outstanding``) the principal still
outstanding on the period's first day, that day's repayments counted. The cap keeps the
published rule — a fee below 1 % of principal a year — whatever the day count: at
actual/360 a 0.99 % rate over 365 days would be 1.004 %. Totals are the sums of the
periods, so a schedule always adds up.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, Decimal
from typing import Literal

from pydantic import BaseModel

from services.guarantee.policies.document import Terms
from shared.clock import add_months
from shared.money import Money, round_to_fen

__all__ = ["FeePeriod", "FeeRules", "add_months", "fee_rules", "fee_schedule", "guarantee_fee"]

FeeBase = Literal["principal", "outstanding"]


class FeePeriod(BaseModel):
    period_from: date
    period_to: date
    days: int
    # What the fee is on: the principal, or what was outstanding on the first day. None in
    # schedules written before the base was kept (it was the principal).
    base: Money | None = None
    fee: Money
    subsidy: Money
    payable: Money


@dataclass(frozen=True)
class FeeRules:
    """A guarantee's fee terms: its frozen rate and subsidy share, and the policy's
    mechanics (terms.day_count_basis, fee_base, fee_period_months, annual_fee_cap,
    release_refund)."""

    rate: Decimal
    subsidy_share: Decimal
    basis: int = 360
    base: FeeBase = "principal"
    period_months: int = 12
    annual_cap: Decimal | None = Decimal("0.0100")
    release_refund: Literal["pro_rata", "none"] = "pro_rata"


def fee_rules(terms: Terms, rate: Decimal, subsidy_share: Decimal) -> FeeRules:
    """The fee terms of a rate and share under a policy's mechanics."""
    return FeeRules(
        rate=rate,
        subsidy_share=subsidy_share,
        basis=terms.day_count_basis,
        base=terms.fee_base,
        period_months=terms.fee_period_months,
        annual_cap=terms.annual_fee_cap,
        release_refund=terms.release_refund,
    )


def guarantee_fee(principal: Decimal, annual_rate: Decimal, days: int, basis: int = 360) -> Decimal:
    """``principal × rate × days / basis``, rounded half-up to the fen."""
    return round_to_fen(principal * annual_rate * days / basis)


def _loan_year_days(disbursed_on: date, day: date) -> int:
    """Days of the loan year (anniversary to anniversary) that ``day`` falls in."""
    years = 0
    while add_months(disbursed_on, 12 * (years + 1)) <= day:
        years += 1
    return (add_months(disbursed_on, 12 * (years + 1)) - add_months(disbursed_on, 12 * years)).days


def _period(
    start: date,
    end: date,
    base: Decimal,
    year_days: int,
    rules: FeeRules,
    *,
    subsidised: bool = True,
) -> FeePeriod:
    days = (end - start).days
    fee = guarantee_fee(base, rules.rate, days, rules.basis)
    if rules.annual_cap is not None:
        cap = (base * rules.annual_cap * days / year_days).quantize(Decimal("0.01"), ROUND_FLOOR)
        fee = min(fee, cap)
    subsidy = round_to_fen(fee * rules.subsidy_share) if subsidised else Decimal("0.00")
    return FeePeriod(
        period_from=start,
        period_to=end,
        days=days,
        base=base,
        fee=fee,
        subsidy=subsidy,
        payable=fee - subsidy,
    )


def fee_schedule(
    *,
    principal: Decimal,
    disbursed_on: date,
    maturity_on: date,
    rules: FeeRules,
    outstanding_on: Callable[[date], Decimal] | None = None,
    overdue_on: Callable[[date], bool] | None = None,
) -> list[FeePeriod]:
    """The periods from disbursal to maturity. ``outstanding_on(day)`` gives the principal
    outstanding on a day (after its repayments); without it, or with the principal as the
    policy's base, every period is on ``principal``. A period falling due on a day
    ``overdue_on`` says the loan was overdue gets no subsidy: the SME pays it whole."""
    periods = []
    start, n = disbursed_on, 1
    while start < maturity_on:
        end = min(add_months(disbursed_on, rules.period_months * n), maturity_on)
        base = principal
        if rules.base == "outstanding" and outstanding_on is not None:
            base = min(principal, outstanding_on(start))
        year_days = _loan_year_days(disbursed_on, start)
        subsidised = overdue_on is None or not overdue_on(start)
        periods.append(_period(start, end, base, year_days, rules, subsidised=subsidised))
        start, n = end, n + 1
    return periods


def released_schedule(
    periods: list[FeePeriod],
    *,
    released_on: date,
    disbursed_on: date,
    principal: Decimal,
    rules: FeeRules,
) -> list[FeePeriod]:
    """The schedule of a guarantee released on ``released_on`` (its first day without the
    fund): no period that starts on or after it; the period it falls in cut to the days
    guaranteed (``release_refund: pro_rata``) or kept whole (``none``)."""
    kept = []
    for period in periods:
        if period.period_from >= released_on:
            break
        if period.period_to > released_on and rules.release_refund == "pro_rata":
            base = period.base if period.base is not None else principal
            year_days = _loan_year_days(disbursed_on, period.period_from)
            subsidised = period.subsidy > 0 or period.fee == 0 or rules.subsidy_share == 0
            period = _period(
                period.period_from, released_on, base, year_days, rules, subsidised=subsidised
            )
        kept.append(period)
    return kept
