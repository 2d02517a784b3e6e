"""What a guarantee's schedule adds to the kept fee sums (shared/tallies.py): its fee periods
as ``fee_dues`` rows, and the sums each row counts in — its month and bank, its firm and
year. Pure: no database."""

from datetime import date
from decimal import Decimal
from typing import Any

from services.guarantee.models import Guarantee
from shared.money import to_fen
from shared.tallies import Key

SUM_KEYS = ("kind", "period", "party")
SUM_VALUES = ("periods", "fee_fen", "subsidy_fen")


def month_number(day: date) -> int:
    """2026-03-xx → 202603: the sums' month, ordered as numbers on every collation."""
    return day.year * 100 + day.month


def dues_of(guarantee: Guarantee) -> list[dict[str, Any]]:
    """The guarantee's fee periods, each due on its first day."""
    cap = guarantee.fee_subsidy_firm_annual_cap
    return [
        {
            "guarantee_id": guarantee.id,
            "seq": seq,
            "loan_id": guarantee.loan_id,
            "due": date.fromisoformat(period["period_from"]),
            "bank_code": guarantee.bank_code,
            "enterprise_uscc": guarantee.enterprise_uscc,
            "fee_fen": to_fen(Decimal(period["fee"])),
            "subsidy_fen": to_fen(Decimal(period["subsidy"])),
            "cap_fen": to_fen(Decimal(cap)) if cap is not None else None,
            "issued_at": guarantee.issued_at,
        }
        for seq, period in enumerate(guarantee.schedule)
    ]


def counted_in(
    due: date, bank_code: str, uscc: str, fee_fen: int, subsidy_fen: int
) -> list[tuple[Key, tuple[int, int, int]]]:
    """The sums a fee period counts in, with what it adds to each."""
    values = (1, fee_fen, subsidy_fen)
    return [
        (("month", month_number(due), bank_code), values),
        (("firm_year", due.year, uscc), values),
    ]
