"""A bank's statement against the gateway's ledger: every mismatch, every missing event."""

import uuid
from collections.abc import Iterable
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from services.bank_gateway.ledger import repository as repo
from services.bank_gateway.ledger.schemas import (
    Mismatch,
    MissingEvent,
    ReconciliationReport,
    Statement,
)
from services.bank_gateway.models import BatchLoan, PartnerBank
from shared.clock import shanghai_date
from shared.money import from_fen, to_fen

FINISHED = {"declined", "settled"}
PAYING = {"disbursed", "repaying", "overdue"}


def _compare(
    loans: dict[uuid.UUID, BatchLoan], statement: Statement
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
) -> ReconciliationReport:
    loans = {loan.id: loan for loan in await repo.loans_of_bank(session=session, bank_id=bank.id)}
    mismatches, unknown, stated = _compare(loans, statement)
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
    )
