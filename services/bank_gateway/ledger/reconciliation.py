"""A bank's statement against the gateway's ledger: every mismatch — of states, of the
outstanding principal and of each money figure the bank states (principal repaid, interest
received, compensation received from the fund, recoveries and the fund's share of them) —
every missing event, and each money figure's totals on both sides."""

import uuid
from collections.abc import Iterable
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from services.bank_gateway.clients import GuaranteeClient
from services.bank_gateway.ledger import repository as repo
from services.bank_gateway.ledger.schemas import (
    Mismatch,
    MissingEvent,
    MoneyTotal,
    ReconciliationReport,
    Statement,
    StatementLine,
)
from services.bank_gateway.models import BatchLoan, PartnerBank
from shared.clock import shanghai_date
from shared.contracts.reconciliation import MAX_PER_REQUEST
from shared.money import from_fen, to_fen

FINISHED = {"declined", "settled"}
PAYING = {"disbursed", "repaying", "overdue"}
# A statement's money figures: (the ledger's column, its name).
MONEY = {
    "principal_repaid": ("repaid_fen", "已还本金"),
    "interest_received": ("interest_paid_fen", "已收利息"),
    "compensation_received": ("compensation_paid_fen", "收到担保基金代偿"),
    "recovered": ("recovered_fen", "追回金额"),
    "recoveries_to_fund": ("fund_recovered_fen", "应归担保基金的追偿分成"),
}


# Stated by the bank, held by the fund: fees it recorded as received (担保费实收).
FEES = ("fees_collected", "担保费实收")


def _money(
    line: StatementLine, loan: BatchLoan, fees: dict[uuid.UUID, int], totals: dict[str, list[int]]
) -> list[Mismatch]:
    """The line's money figures against the ledger's (fees: the fund's); adds both sides to
    ``totals``."""
    found = []
    ours_of = {field: int(getattr(loan, column)) for field, (column, _) in MONEY.items()}
    ours_of[FEES[0]] = fees.get(loan.id, 0)
    for field, label in [*((f, label) for f, (_, label) in MONEY.items()), FEES]:
        stated = getattr(line, field)
        if stated is None:
            continue
        ours = ours_of[field]
        whose = "担保基金登记" if field == FEES[0] else "台账"
        total = totals.setdefault(field, [0, 0, 0])
        total[0] += 1
        total[1] += to_fen(stated)
        total[2] += ours
        if to_fen(stated) != ours:
            found.append(
                Mismatch(
                    loan_id=loan.id,
                    field=field,
                    bank=str(stated),
                    gateway=str(from_fen(ours)),
                    message=f"{label}：银行报 ¥{stated:,}，{whose} ¥{from_fen(ours):,}",
                )
            )
    return found


def _compare(
    loans: dict[uuid.UUID, BatchLoan],
    statement: Statement,
    fees: dict[uuid.UUID, int],
    totals: dict[str, list[int]],
) -> tuple[list[Mismatch], list[uuid.UUID], set[uuid.UUID]]:
    """Each statement line against the ledger: (mismatches, unknown loans, loans stated)."""
    mismatches: list[Mismatch] = []
    unknown = []
    stated = set()
    for line in statement.loans:
        loan = loans.get(line.loan_id)
        if loan is None:
            unknown.append(line.loan_id)
            continue
        stated.add(line.loan_id)
        if line.state != loan.state:
            mismatches.append(
                Mismatch(loan_id=loan.id, field="state", bank=line.state, gateway=loan.state)
            )
        if to_fen(line.outstanding) != loan.outstanding_fen:
            mismatches.append(
                Mismatch(
                    loan_id=loan.id,
                    field="outstanding",
                    bank=str(line.outstanding),
                    gateway=str(from_fen(loan.outstanding_fen)),
                )
            )
        mismatches += _money(line, loan, fees, totals)
    return mismatches, unknown, stated


def _missing_events(
    loans: Iterable[BatchLoan], as_of: date, disbursal_days: int, repayment_days: int
) -> list[MissingEvent]:
    """Loans silent for longer than a bank may leave them: approved but not disbursed, or
    paying with no repayment or overdue report."""
    missing = []
    for loan in loans:
        days = (as_of - shanghai_date(loan.last_event_at or loan.created_at)).days
        if loan.state == "approved" and days > disbursal_days:
            missing.append(
                MissingEvent(
                    loan_id=loan.id,
                    code="approved_not_disbursed",
                    message=f"已批准 {days} 天仍无放款报告（超过 {disbursal_days} 天）",
                    days=days,
                )
            )
        elif loan.state in PAYING and days > repayment_days:
            missing.append(
                MissingEvent(
                    loan_id=loan.id,
                    code="no_repayment_report",
                    message=f"{days} 天没有还款或逾期报告（超过 {repayment_days} 天）",
                    days=days,
                )
            )
    return missing


async def reconcile(
    *,
    session: AsyncSession,
    bank: PartnerBank,
    statement: Statement,
    disbursal_days: int,
    repayment_days: int,
    guarantee: GuaranteeClient,
) -> ReconciliationReport:
    loans = {loan.id: loan for loan in await repo.loans_of_bank(session=session, bank_id=bank.id)}
    totals: dict[str, list[int]] = {}
    fees = await _fees_received(guarantee, statement, set(loans))
    mismatches, unknown, stated = _compare(loans, statement, fees, totals)
    live = {i for i, loan in loans.items() if loan.state not in FINISHED | {"allocated"}}
    held = await repo.held_counts(session=session, bank_id=bank.id)
    return ReconciliationReport(
        as_of=statement.as_of,
        checked=len(statement.loans),
        matched=len(stated) - len({m.loan_id for m in mismatches}),
        mismatches=mismatches,
        unknown_loans=unknown,
        missing_from_statement=sorted(live - stated),
        missing_events=_missing_events(
            loans.values(), statement.as_of, disbursal_days, repayment_days
        ),
        waiting_events={str(k): v for k, v in held.items()},
        money_totals=[
            MoneyTotal(
                field=field,
                label=MONEY[field][1] if field in MONEY else FEES[1],
                lines=lines,
                bank=from_fen(bank_fen),
                gateway=from_fen(ours_fen),
            )
            for field, (lines, bank_fen, ours_fen) in totals.items()
        ],
    )


async def _fees_received(
    guarantee: GuaranteeClient, statement: Statement, ours: set[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """The fund's recorded fee receipts of the loans whose line states fees collected (the
    fund is asked only then)."""
    wanted = [
        x.loan_id for x in statement.loans if x.fees_collected is not None and x.loan_id in ours
    ]
    found: dict[uuid.UUID, int] = {}
    for i in range(0, len(wanted), MAX_PER_REQUEST):
        views = await guarantee.fund_view(wanted[i : i + MAX_PER_REQUEST])
        found |= {v.loan_id: to_fen(v.fees_collected) for v in views.items}
    return found
