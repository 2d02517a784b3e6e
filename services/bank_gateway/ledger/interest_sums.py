"""What a lent loan adds to the kept 贴息 sums (shared/tallies.py): its months as
``interest_months`` rows (interest_subsidy.py computes them), and the sums each row counts
in — its month and bank, its firm and year. Pure: no database."""

import uuid
from datetime import date
from typing import Any

from services.bank_gateway.ledger.interest_subsidy import (
    LoanLife,
    Month,
    SubsidyTerms,
    kept_span,
    months_of,
)
from services.bank_gateway.models import BatchLoan
from shared.tallies import Key

SUM_KEYS = ("kind", "period", "party")
SUM_VALUES = ("repayments", "interest_fen", "unsubsidised_fen", "subsidy_fen")


def month_number(month: str) -> int:
    """ "2026-03" → 202603: the sums' month, ordered as numbers on every collation."""
    return int(month[:4]) * 100 + int(month[5:7])


def month_text(number: int) -> str:
    return f"{number // 100:04d}-{number % 100:02d}"


def life_of(loan: BatchLoan, bank_code: str, overdue_since: list[date]) -> LoanLife:
    """What 贴息 is computed from, of a lent loan (disbursed)."""
    assert loan.disbursed_on is not None
    return LoanLife(
        loan_id=loan.id,
        bank_code=bank_code,
        uscc=loan.enterprise_uscc,
        disbursed_on=loan.disbursed_on,
        disbursed_fen=loan.disbursed_fen,
        payments=tuple((date.fromisoformat(d), p, i) for d, p, i in loan.payments or []),
        overdue_since=tuple(overdue_since),
        terms=SubsidyTerms.of(loan.terms),
    )


def kept_months(life: LoanLife) -> tuple[list[dict[str, Any]], int | None]:
    """The loan's months to keep, and — when 贴息 goes on after them — the last kept month."""
    first, last, still_open = kept_span(life)
    rows = [
        {
            "loan_id": life.loan_id,
            "month": month_number(month),
            "bank_code": life.bank_code,
            "enterprise_uscc": life.uscc,
            "repayments": m.repayments,
            "interest_fen": m.interest_fen,
            "unsubsidised_fen": m.unsubsidised_fen,
            "subsidy_fen": m.subsidy_fen,
            "cap_fen": life.terms.firm_annual_cap_fen,
        }
        for month, m in months_of(life, first, last).items()
    ]
    return rows, (last.year * 100 + last.month) if still_open else None


def counted_in(
    month: int, bank_code: str, uscc: str, m: Month
) -> list[tuple[Key, tuple[int, ...]]]:
    """The sums a loan's month counts in, with what it adds to each."""
    values = (m.repayments, m.interest_fen, m.unsubsidised_fen, m.subsidy_fen)
    return [(("month", month, bank_code), values), (("firm_year", month // 100, uscc), values)]


def as_month(row: Any) -> tuple[uuid.UUID, int, str, str, Month]:
    """(loan id, month, bank code, USCC, its Month) of an ``interest_months`` row."""
    return (
        row["loan_id"],
        int(row["month"]),
        row["bank_code"],
        row["enterprise_uscc"],
        Month(
            int(row["repayments"]),
            int(row["interest_fen"]),
            int(row["unsubsidised_fen"]),
            int(row["subsidy_fen"]),
        ),
    )
