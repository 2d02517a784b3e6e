"""贴息 (interest subsidy) of one loan, month by month, as the policy froze it into the loan's
terms at assessment. Pure: no database, no HTTP. Amounts in fen.

Two ways, as policy data (a segment's terms):

- **a share of the interest paid** (``interest_subsidy_share``, 30 % for 专精特新): each
  month's interest paid × the share;
- **percentage points a year on the outstanding** (``interest_subsidy_points``, the 2026
  national scheme's 1.5 points): Σ over the month's days of the outstanding principal ×
  points / basis.

Either way: rounded half-up once per loan and month; only within ``interest_subsidy_months``
of the disbursal; never on interest paid while the loan was overdue (from the day it fell
overdue to the repayment that cured it, that repayment included: it pays the overdue
interest) and, by points, not for the days it was overdue; and a firm's 贴息 within
``interest_subsidy_firm_annual_cap`` a calendar year (:func:`capped_per_firm`).
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from shared.clock import add_months
from shared.money import from_fen, round_to_fen, to_fen


@dataclass(frozen=True)
class SubsidyTerms:
    share: Decimal = Decimal(0)
    points: Decimal | None = None
    months: int | None = None
    firm_annual_cap_fen: int | None = None
    basis: int = 360

    @classmethod
    def of(cls, terms: dict[str, Any] | None) -> "SubsidyTerms":
        """From a loan's frozen terms (absent keys: the terms of before they existed)."""
        terms = terms or {}
        points, months = terms.get("interest_subsidy_points"), terms.get("interest_subsidy_months")
        cap = terms.get("interest_subsidy_firm_annual_cap")
        return cls(
            share=Decimal(str(terms.get("interest_subsidy_share") or "0")),
            points=Decimal(str(points)) if points is not None else None,
            months=int(months) if months is not None else None,
            firm_annual_cap_fen=to_fen(Decimal(str(cap))) if cap is not None else None,
            basis=int(terms.get("day_count_basis") or 360),
        )


@dataclass(frozen=True)
class LoanLife:
    loan_id: uuid.UUID
    bank_code: str
    uscc: str
    disbursed_on: date
    disbursed_fen: int
    payments: tuple[tuple[date, int, int], ...]  # (paid_on, principal, interest), any order
    overdue_since: tuple[date, ...]  # each day the bank reported it fell overdue
    terms: SubsidyTerms


@dataclass(frozen=True)
class Month:
    """One loan's month: its repayments, the interest paid, what of it had no 贴息 (paid
    while overdue or after the subsidy's duration), and the 贴息."""

    repayments: int = 0
    interest_fen: int = 0
    unsubsidised_fen: int = 0
    subsidy_fen: int = 0


def overdue_spells(life: LoanLife) -> list[tuple[date, date | None]]:
    """(fell overdue, cured by the repayment of that day — or None: never cured)."""
    days = sorted(p[0] for p in life.payments)
    spells = []
    for since in sorted(set(life.overdue_since)):
        cure = next((d for d in days if d >= since), None)
        spells.append((since, cure))
    return spells


def _overdue_on(spells: list[tuple[date, date | None]], day: date, *, cure_included: bool) -> bool:
    return any(
        since <= day and (cure is None or day < cure or (cure_included and day == cure))
        for since, cure in spells
    )


def _subsidy_end(life: LoanLife) -> date | None:
    months = life.terms.months
    return add_months(life.disbursed_on, months) if months is not None else None


def _outstanding_on(life: LoanLife, day: date) -> int:
    """Principal outstanding through ``day`` (repayments of earlier days taken off)."""
    return life.disbursed_fen - sum(p for paid_on, p, _ in life.payments if paid_on < day)


def _by_points(life: LoanLife, first: date, last: date, spells: list[Any]) -> Decimal:
    end = _subsidy_end(life)
    points = life.terms.points or Decimal(0)
    total = Decimal(0)
    day = max(first, life.disbursed_on)
    while day <= last and (end is None or day < end):
        if not _overdue_on(spells, day, cure_included=False):
            total += from_fen(_outstanding_on(life, day)) * points / life.terms.basis
        day += timedelta(days=1)
    return total


def months_of(life: LoanLife, first: date, last: date) -> dict[str, Month]:
    """The loan's months between ``first`` and ``last`` (whole months), by "YYYY-MM"."""
    spells, end = overdue_spells(life), _subsidy_end(life)
    paid: dict[str, list[tuple[int, bool]]] = {}
    for paid_on, _, interest in life.payments:
        if first <= paid_on <= last:
            excluded = _overdue_on(spells, paid_on, cure_included=True) or (
                end is not None and paid_on >= end
            )
            paid.setdefault(paid_on.strftime("%Y-%m"), []).append((interest, excluded))
    months: dict[str, Month] = {}
    month = date(first.year, first.month, 1)
    while month <= last:
        key, after = month.strftime("%Y-%m"), add_months(month, 1)
        rows = paid.get(key, [])
        interest = sum(i for i, _ in rows)
        unsubsidised = sum(i for i, excluded in rows if excluded)
        if life.terms.points is not None:
            exact = _by_points(life, month, after - timedelta(days=1), spells)
        else:
            exact = from_fen(interest - unsubsidised) * life.terms.share
        subsidy = to_fen(round_to_fen(exact))
        if rows or subsidy:
            months[key] = Month(len(rows), interest, unsubsidised, subsidy)
        month = after
    return months


@dataclass(frozen=True)
class Capped:
    """Whose 贴息 a loan's months are, and the firm's annual cap in the loan's terms."""

    loan_id: uuid.UUID
    uscc: str
    cap_fen: int | None


def capped_per_firm(
    lives: Iterable[tuple[Capped, dict[str, Month]]],
) -> dict[tuple[uuid.UUID, str], Month]:
    """Each loan's months with the firm's annual cap applied: a firm's 贴息 is granted in
    month order (loans by id within a month) until its loan's cap for the calendar year is
    reached. The months must start in January of each year they cover."""
    ordered = sorted(
        ((month, life.loan_id, life, m) for life, ms in lives for month, m in ms.items()),
        key=lambda x: (x[0], x[1]),
    )
    used: dict[tuple[str, str], int] = {}
    out = {}
    for month, loan_id, life, m in ordered:
        if life.cap_fen is not None:
            key = (life.uscc, month[:4])
            granted = max(0, min(m.subsidy_fen, life.cap_fen - used.get(key, 0)))
            used[key] = used.get(key, 0) + granted
            m = Month(m.repayments, m.interest_fen, m.unsubsidised_fen, granted)
        out[(loan_id, month)] = m
    return out


def capped(life: LoanLife) -> Capped:
    return Capped(life.loan_id, life.uscc, life.terms.firm_annual_cap_fen)


def kept_span(life: LoanLife) -> tuple[date, date, bool]:
    """The days whose months are kept for the loan (the subsidy report's sums): from its
    disbursal to its last payment and, by points, to the end of the 贴息 term — and whether
    贴息 goes on after them (by points with no term, principal still outstanding)."""
    last = max((paid_on for paid_on, _, _ in life.payments), default=life.disbursed_on)
    still_open = False
    if life.terms.points is not None:
        end = _subsidy_end(life)
        if end is not None:
            last = max(last, end - timedelta(days=1))
        else:
            still_open = life.disbursed_fen > sum(p for _, p, _ in life.payments)
    month_end = add_months(date(last.year, last.month, 1), 1) - timedelta(days=1)
    return date(life.disbursed_on.year, life.disbursed_on.month, 1), month_end, still_open
