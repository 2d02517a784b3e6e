"""The subsidy report: what the district owes per month and bank. Never commits.

Fee subsidies come from the guarantee service (the fee schedules frozen in each
guarantee); interest subsidies (贴息) from this ledger: a loan's interest paid in a month ×
its interest subsidy share, rounded half-up to the fen once per loan and month (three
payments of 0.05 at 30 % are 0.05 of 贴息, not 3 × 0.02).
"""

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from services.bank_gateway.ledger import repository as repo
from shared.money import Money, from_fen, round_to_fen, to_fen

# Repayments are looked for among events applied from this long before the first month:
# a bank reporting later than that is a reconciliation matter, not this report's.
REPORTED_LATE_DAYS = 92


class SubsidyRow(BaseModel):
    month: str
    bank_code: str
    bank_name: str
    fee: Money
    fee_subsidy: Money
    repayments: int
    interest: Money
    interest_subsidy: Money
    subsidy_total: Money


def month_days(month_from: str, month_to: str) -> tuple[date, date]:
    first = date.fromisoformat(f"{month_from}-01")
    year, month = (int(x) for x in month_to.split("-"))
    after = date(year + month // 12, month % 12 + 1, 1)
    return first, after - timedelta(days=1)


async def interest_subsidies(
    *, session: AsyncSession, month_from: str, month_to: str
) -> dict[tuple[str, str], tuple[int, int, int]]:
    """(month, bank code) → (repayments, interest fen, interest subsidy fen)."""
    first, last = month_days(month_from, month_to)
    # (month, bank, loan) → (repayments, interest fen, the loan's share)
    per_loan: dict[tuple[str, str, uuid.UUID], tuple[int, int, Decimal]] = {}
    for payload, terms, bank_code, loan_id in await repo.applied_repayments(
        session=session, applied_since=first - timedelta(days=REPORTED_LATE_DAYS)
    ):
        data = payload.get("data", {})
        paid_on = date.fromisoformat(str(data.get("paid_on")))
        if not first <= paid_on <= last:
            continue
        share = Decimal(str((terms or {}).get("interest_subsidy_share", "0")))
        key = (paid_on.strftime("%Y-%m"), bank_code, loan_id)
        n, paid, _ = per_loan.get(key, (0, 0, share))
        per_loan[key] = (n + 1, paid + to_fen(Decimal(str(data.get("interest", "0")))), share)
    totals: dict[tuple[str, str], tuple[int, int, int]] = {}
    for (month, bank_code, _), (n, paid, share) in per_loan.items():
        count, interest, subsidy = totals.get((month, bank_code), (0, 0, 0))
        totals[(month, bank_code)] = (
            count + n,
            interest + paid,
            subsidy + to_fen(round_to_fen(from_fen(paid) * share)),
        )
    return totals


def merge(
    fee_rows: list[dict[str, Any]],
    interest: dict[tuple[str, str], tuple[int, int, int]],
    bank_names: dict[str, str],
) -> list[SubsidyRow]:
    fees = {(r["month"], r["bank_code"]): r for r in fee_rows}
    rows = []
    for month, bank in sorted(set(fees) | set(interest)):
        fee = fees.get((month, bank), {})
        n, paid, subsidy = interest.get((month, bank), (0, 0, 0))
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
                interest_subsidy=from_fen(subsidy),
                subsidy_total=fee_subsidy + from_fen(subsidy),
            )
        )
    return rows
