"""The subsidy report: what the district owes per month and bank. Never commits.

Fee subsidies come from the guarantee service (the fee schedules frozen in each
guarantee); interest subsidies (贴息) from this ledger, loan by loan and month by month as
each loan's frozen terms say (interest_subsidy.py: a share of the interest or points on the
outstanding, one rounding per loan and month, none while overdue, within the duration and
the firm's annual cap).
"""

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from services.bank_gateway.ledger import interest_repository as interest_repo
from services.bank_gateway.ledger import repository as repo
from services.bank_gateway.ledger.interest_subsidy import (
    Capped,
    Month,
    capped,
    capped_per_firm,
    months_of,
)
from services.bank_gateway.ledger.interest_sums import as_month, life_of, month_number, month_text
from services.bank_gateway.models import BatchLoan
from shared import tallies
from shared.clock import add_months
from shared.money import Money, from_fen


class SubsidyRow(BaseModel):
    month: str
    bank_code: str
    bank_name: str
    fee: Money
    fee_subsidy: Money
    repayments: int
    interest: Money
    # Interest with no 贴息: paid while the loan was overdue, or after the subsidy's term.
    interest_unsubsidised: Money = Decimal(0)
    interest_subsidy: Money
    subsidy_total: Money


def month_days(month_from: str, month_to: str) -> tuple[date, date]:
    first = date.fromisoformat(f"{month_from}-01")
    year, month = (int(x) for x in month_to.split("-"))
    after = date(year + month // 12, month % 12 + 1, 1)
    return first, after - timedelta(days=1)


async def interest_by_loan(
    *, session: AsyncSession, month_from: str, month_to: str
) -> tuple[dict[tuple[uuid.UUID, str], Month], dict[uuid.UUID, tuple[BatchLoan, str]]]:
    """Each lent loan's months between the two ((loan id, "YYYY-MM") → its repayments,
    interest and 贴息, the firm's annual cap applied), and the loans with their bank code."""
    first, last = month_days(month_from, month_to)
    # From January: a firm's annual cap counts what it was granted earlier in the year.
    january = date(first.year, 1, 1)
    loans = await repo.lent_loans(session=session, disbursed_by=last)
    overdue = await repo.overdue_days(session=session, loan_ids={loan.id for loan, _ in loans})
    lives = []
    for loan, bank_code in loans:
        life = life_of(loan, bank_code, overdue.get(loan.id, []))
        lives.append((capped(life), months_of(life, january, last)))
    months = {
        (loan_id, month): m
        for (loan_id, month), m in capped_per_firm(lives).items()
        if month >= month_from
    }
    return months, {loan.id: (loan, bank_code) for loan, bank_code in loans}


Totals = dict[tuple[int, str], list[int]]


async def interest_subsidies(
    *, session: AsyncSession, month_from: str, month_to: str
) -> dict[tuple[str, str], tuple[int, int, int, int]]:
    """(month, bank code) → (repayments, interest fen, of it without 贴息, 贴息 fen): the
    kept sums, with the months of open-ended loans after their kept ones walked, less what
    the firms' annual caps take from the few firms above the smallest cap."""
    await interest_repo.settle(session=session)
    first, last = month_days(month_from, month_to)
    lo, hi = month_number(month_from), month_number(month_to)
    sums = await interest_repo.month_sums(session=session, first_month=lo, last_month=hi)
    extra = await _after_kept(session, date(first.year, 1, 1), last)
    for (life, month), m in extra.items():
        if month >= month_from:
            _add(sums, (month_number(month), life.bank_code), m, 1)
    capped_firms = set(
        await interest_repo.firms_over_smallest_cap(
            session=session, years=list(range(first.year, last.year + 1))
        )
    ) | {life.uscc for life, _ in extra}
    if capped_firms:
        await _cap(session, sums, sorted(capped_firms), extra, first, month_from, hi)
    return {
        (month_text(k[0]), k[1]): (v[0], v[1], v[2], v[3])
        for k, v in sorted(sums.items())
        if any(v)  # a month whose 贴息 a cap took whole and no repayment: no line
    }


def _add(sums: Totals, key: tuple[int, str], m: Month, sign: int) -> None:
    tallies.add_up(
        [(key, (m.repayments, m.interest_fen, m.unsubsidised_fen, m.subsidy_fen))], sign, sums
    )


async def _after_kept(session: AsyncSession, january: date, last: date) -> dict[Any, Month]:
    """(life, "YYYY-MM") → month, of the open-ended loans' months after their kept ones."""
    out = {}
    for life, through in await interest_repo.open_lives(
        session=session, before=last.year * 100 + last.month
    ):
        after = add_months(date.fromisoformat(f"{month_text(through)}-01"), 1)
        for month, m in months_of(life, max(january, after), last).items():
            out[(life, month)] = m
    return out


async def _cap(
    session: AsyncSession,
    sums: Totals,
    usccs: list[str],
    extra: dict[Any, Month],
    first: date,
    month_from: str,
    hi: int,
) -> None:
    """Take off ``sums`` what the firms' annual caps take from their 贴息 (in month order)."""
    months: dict[uuid.UUID, dict[str, Month]] = {}
    whose: dict[uuid.UUID, tuple[Capped, str]] = {}
    for row in await interest_repo.months_of_firms(
        session=session, usccs=usccs, first_month=first.year * 100 + 1, last_month=hi
    ):
        loan_id, month, bank, uscc, m = as_month(row)
        months.setdefault(loan_id, {})[month_text(month)] = m
        whose[loan_id] = (Capped(loan_id, uscc, row["cap_fen"]), bank)
    for (life, month), m in extra.items():
        months.setdefault(life.loan_id, {})[month] = m
        whose[life.loan_id] = (capped(life), life.bank_code)
    granted = capped_per_firm((whose[loan_id][0], ms) for loan_id, ms in months.items())
    for (loan_id, month), m in granted.items():
        before = months[loan_id][month]
        if month >= month_from and m.subsidy_fen != before.subsidy_fen:
            key = (month_number(month), whose[loan_id][1])
            sums[key][3] -= before.subsidy_fen - m.subsidy_fen


def merge(
    fee_rows: list[dict[str, Any]],
    interest: dict[tuple[str, str], tuple[int, int, int, int]],
    bank_names: dict[str, str],
) -> list[SubsidyRow]:
    fees = {(r["month"], r["bank_code"]): r for r in fee_rows}
    rows = []
    for month, bank in sorted(set(fees) | set(interest)):
        fee = fees.get((month, bank), {})
        n, paid, unsubsidised, subsidy = interest.get((month, bank), (0, 0, 0, 0))
        fee_subsidy = Decimal(fee.get("fee_subsidy", "0"))
        rows.append(
            SubsidyRow(
                month=month,
                bank_code=bank,
                bank_name=bank_names.get(bank, bank),
                fee=Decimal(fee.get("fee", "0")),
                fee_subsidy=fee_subsidy,
                repayments=n,
                interest=from_fen(paid),
                interest_unsubsidised=from_fen(unsubsidised),
                interest_subsidy=from_fen(subsidy),
                subsidy_total=fee_subsidy + from_fen(subsidy),
            )
        )
    return rows
