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

from services.bank_gateway.ledger import repository as repo
from services.bank_gateway.ledger.interest_subsidy import (
    LoanLife,
    Month,
    SubsidyTerms,
    capped_per_firm,
    months_of,
)
from services.bank_gateway.models import BatchLoan
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
        assert loan.disbursed_on is not None
        life = LoanLife(
            loan_id=loan.id,
            bank_code=bank_code,
            uscc=loan.enterprise_uscc,
            disbursed_on=loan.disbursed_on,
            disbursed_fen=loan.disbursed_fen,
            payments=tuple((date.fromisoformat(d), p, i) for d, p, i in loan.payments or []),
            overdue_since=tuple(overdue.get(loan.id, [])),
            terms=SubsidyTerms.of(loan.terms),
        )
        lives.append((life, months_of(life, january, last)))
    months = {
        (loan_id, month): m
        for (loan_id, month), m in capped_per_firm(lives).items()
        if month >= month_from
    }
    return months, {loan.id: (loan, bank_code) for loan, bank_code in loans}


async def interest_subsidies(
    *, session: AsyncSession, month_from: str, month_to: str
) -> dict[tuple[str, str], tuple[int, int, int, int]]:
    """(month, bank code) → (repayments, interest fen, of it without 贴息, 贴息 fen)."""
    months, loans = await interest_by_loan(
        session=session, month_from=month_from, month_to=month_to
    )
    totals: dict[tuple[str, str], tuple[int, int, int, int]] = {}
    for (loan_id, month), m in months.items():
        key = (month, loans[loan_id][1])
        n, interest, unsubsidised, subsidy = totals.get(key, (0, 0, 0, 0))
        totals[key] = (
            n + m.repayments,
            interest + m.interest_fen,
            unsubsidised + m.unsubsidised_fen,
            subsidy + m.subsidy_fen,
        )
    return totals


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
