"""A loan's figures as the ledger holds them, and what a bank's reported figures are
checked against before they move them (DESIGN.md §4; issue 13).

Every figure from a bank is a claim: no date after today, none before the disbursal (a
disbursal not before its approval, a settlement not before the last repayment), a maturity
within the term plus the policy's grace, interest within the contract rate on the
outstanding day by day (plus the penalty allowance once the loan has been overdue). Pure:
no database, no HTTP; amounts in integer fen.
"""

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from services.bank_gateway.ledger.events import (
    Approved,
    ClaimSubmitted,
    Declined,
    Defaulted,
    Disbursed,
    EventData,
    Overdue,
    Recovered,
    Repayment,
    Settled,
)
from shared.money import from_fen, to_fen


class LoanState(StrEnum):
    ALLOCATED = "allocated"
    APPROVED = "approved"
    DECLINED = "declined"
    DISBURSED = "disbursed"
    REPAYING = "repaying"
    OVERDUE = "overdue"
    DEFAULTED = "defaulted"
    CLAIMED = "claimed"
    COMPENSATED = "compensated"
    RECOVERING = "recovering"
    SETTLED = "settled"
    # The fund refused its 备案: lent, but not guaranteed; the ledger takes nothing more.
    UNGUARANTEED = "unguaranteed"


# A repayment: (paid_on, principal fen, interest fen).
Payment = tuple[date, int, int]


@dataclass(frozen=True)
class Figures:
    """A loan's state and amounts, in fen."""

    state: LoanState
    allocated_fen: int
    approved_fen: int = 0
    disbursed_fen: int = 0
    outstanding_fen: int = 0
    repaid_fen: int = 0
    interest_paid_fen: int = 0
    recovered_fen: int = 0
    # None before a claim; "pending" while the fund decides; then the fund's outcome.
    claim_status: str | None = None
    overdue_since: date | None = None
    defaulted_on: date | None = None
    approved_on: date | None = None
    annual_rate: Decimal | None = None
    disbursed_on: date | None = None
    # Each repayment: (paid_on, principal fen, interest fen), in date order.
    payments: tuple[Payment, ...] = ()
    ever_overdue: bool = False


@dataclass(frozen=True)
class Refusal:
    code: str
    message_zh: str
    message_en: str
    # Not wrong, only early: a settlement that arrives before the last repayment is held.
    may_fit_later: bool = False


# --- what a bank's figures are checked against ------------------------------------------------


@dataclass(frozen=True)
class Bounds:
    """Beyond the loan's own figures: the day it is (Asia/Shanghai) and the limits the batch
    froze from its policy version (``bank_figures``)."""

    today: date
    term_months: int
    penalty_interest_markup: Decimal = Decimal("0.50")
    maturity_grace_days: int = 31
    day_count_basis: int = 360


# The day each event is dated by, and what people call it.
_EVENT_DAY: dict[type[EventData], tuple[str, str]] = {
    Approved: ("approved_on", "批准日"),
    Declined: ("declined_on", "拒绝日"),
    Disbursed: ("disbursed_on", "放款日"),
    Repayment: ("paid_on", "还款日"),
    Overdue: ("since", "逾期起始日"),
    Defaulted: ("defaulted_on", "违约日"),
    ClaimSubmitted: ("submitted_on", "代偿申请日"),
    Recovered: ("recovered_on", "追偿日"),
    Settled: ("settled_on", "结清日"),
}


def misdated(f: Figures, data: EventData, bounds: Bounds) -> Refusal | None:
    """No event is dated after today; none after the disbursal before it; a disbursal not
    before its approval; a settlement not before the last repayment."""
    attr, label = _EVENT_DAY[type(data)]
    day: date = getattr(data, attr)
    if day > bounds.today:
        return Refusal(
            "date-implausible",
            f"{label} {day} 晚于今天 {bounds.today}",
            f"{attr} {day} is after today {bounds.today}",
        )
    floor, floor_label, floor_en = (
        (f.approved_on, "批准日", "approval")
        if isinstance(data, Disbursed)
        else (f.disbursed_on, "放款日", "disbursal")
    )
    if floor is not None and day < floor and not isinstance(data, Approved | Declined):
        return Refusal(
            "date-implausible",
            f"{label} {day} 早于{floor_label} {floor}",
            f"{attr} {day} is before the loan's {floor_en} on {floor}",
        )
    last_paid = max((p[0] for p in f.payments), default=None)
    if isinstance(data, Settled) and last_paid is not None and day < last_paid:
        return Refusal(
            "date-implausible",
            f"结清日 {day} 早于最近一次还款日 {last_paid}",
            f"settled_on {day} is before the last repayment {last_paid}",
        )
    return None


def _rate(f: Figures, bounds: Bounds) -> Decimal:
    """The contract rate, plus the penalty allowance once the loan has been overdue."""
    assert f.annual_rate is not None
    return f.annual_rate * (1 + bounds.penalty_interest_markup if f.ever_overdue else 1)


def interest_bound_fen(f: Figures, until: date, bounds: Bounds) -> int:
    """The most interest the loan can have earned from its disbursal to ``until``: each day's
    outstanding principal × the rate (:func:`_rate`) / the day count basis, rounded up to
    the fen. A repayment's principal lowers the outstanding from its day on."""
    assert f.disbursed_on is not None
    principal_days = 0
    outstanding, since = f.disbursed_fen, f.disbursed_on
    for paid_on, principal, _ in f.payments:
        if paid_on >= until:
            break
        principal_days += outstanding * (paid_on - since).days
        outstanding, since = outstanding - principal, paid_on
    principal_days += outstanding * max((until - since).days, 0)
    return math.ceil(Decimal(principal_days) * _rate(f, bounds) / bounds.day_count_basis)


def interest_beyond_bound(
    f: Figures, payments: tuple[Payment, ...], bounds: Bounds
) -> Refusal | None:
    """The interest paid by each repayment's day, all told, within what the loan could have
    earned by then (``payments`` in date order). Every repayment known is checked, whatever
    order they arrived in: one that arrives late only lowers the outstanding, so a valid
    life passes in any order. One pass: a loan's repayments are many."""
    assert f.disbursed_on is not None
    rate = _rate(f, bounds)
    principal_days, paid = 0, 0
    outstanding, since = f.disbursed_fen, f.disbursed_on
    for paid_on, principal, interest in payments:
        principal_days += outstanding * (paid_on - since).days
        outstanding, since = outstanding - principal, paid_on
        paid += interest
        bound = math.ceil(Decimal(principal_days) * rate / bounds.day_count_basis)
        if paid > bound:
            room = from_fen(max(bound - paid + interest, 0))
            return Refusal(
                "interest-implausible",
                f"利息 {from_fen(interest):,} 超过按合同利率可计的上限 {room:,}"
                f"（截至 {paid_on}，年利率 {f.annual_rate}）",
                f"interest {from_fen(interest)} above the {room} the contract rate allows "
                f"by {paid_on}",
            )
    return None


def interest_due_beyond_bound(
    f: Figures, interest_due: Decimal, on: date, bounds: Bounds
) -> Refusal | None:
    """Interest a defaulted loan still owes: at most what it could have earned by ``on``
    less what was paid."""
    room = interest_bound_fen(f, on, bounds) - f.interest_paid_fen
    if to_fen(interest_due) <= room:
        return None
    return Refusal(
        "interest-implausible",
        f"欠息 {interest_due:,} 超过按合同利率可计的上限 {from_fen(max(room, 0)):,}"
        f"（截至 {on}，年利率 {f.annual_rate}）",
        f"interest due {interest_due} above the {from_fen(max(room, 0))} the contract rate "
        f"allows by {on}",
    )
