"""A bank's statement against the gateway's ledger: every mismatch, every missing event."""

from sqlalchemy.ext.asyncio import AsyncSession

from services.bank_gateway.ledger import repository as repo
from services.bank_gateway.ledger.schemas import (
    Mismatch,
    MissingEvent,
    ReconciliationReport,
    Statement,
)
from services.bank_gateway.models import PartnerBank
from shared.clock import shanghai_date
from shared.money import from_fen, to_fen

FINISHED = {"declined", "settled"}
PAYING = {"disbursed", "repaying", "overdue"}


async def reconcile(
    *,
    session: AsyncSession,
    bank: PartnerBank,
    statement: Statement,
    disbursal_days: int,
    repayment_days: int,
) -> ReconciliationReport:
    loans = {loan.id: loan for loan in await repo.loans_of_bank(session=session, bank_id=bank.id)}
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
    missing_events = []
    for loan in loans.values():
        last = shanghai_date(loan.last_event_at or loan.created_at)
        days = (statement.as_of - last).days
        if loan.state == "approved" and days > disbursal_days:
            missing_events.append(
                MissingEvent(
                    loan_id=loan.id,
                    code="approved_not_disbursed",
                    message=f"已批准 {days} 天仍无放款报告（超过 {disbursal_days} 天）",
                    days=days,
                )
            )
        elif loan.state in PAYING and days > repayment_days:
            missing_events.append(
                MissingEvent(
                    loan_id=loan.id,
                    code="no_repayment_report",
                    message=f"{days} 天没有还款或逾期报告（超过 {repayment_days} 天）",
                    days=days,
                )
            )
    live = {i for i, loan in loans.items() if loan.state not in FINISHED | {"allocated"}}
    held = await repo.held_counts(session=session, bank_id=bank.id)
    return ReconciliationReport(
        as_of=statement.as_of,
        checked=len(statement.loans),
        matched=len(stated) - len({m.loan_id for m in mismatches}),
        mismatches=mismatches,
        unknown_loans=unknown,
        missing_from_statement=sorted(live - stated),
        missing_events=missing_events,
        waiting_events={str(k): v for k, v in held.items()},
    )
