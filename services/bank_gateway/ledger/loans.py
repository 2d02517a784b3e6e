"""The ledger as people read it: a loan with its figures, a batch's loans a page at a time."""

import uuid
from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from services.bank_gateway.ledger import repository as repo
from services.bank_gateway.ledger.exceptions import LoanNotFound
from services.bank_gateway.ledger.schemas import BatchLoanPage, BatchLoanPublic
from services.bank_gateway.models import Batch, BatchLoan, ReceivedEvent
from shared.money import from_fen


def loan_public(loan: BatchLoan) -> BatchLoanPublic:
    return BatchLoanPublic(
        id=loan.id,
        application_id=loan.application_id,
        enterprise_uscc=loan.enterprise_uscc,
        enterprise_name=loan.enterprise_name,
        amount=from_fen(loan.amount_fen),
        term_months=loan.term_months,
        state=loan.state,
        terms=loan.terms,
        created_at=loan.created_at,
        approved=from_fen(loan.approved_fen),
        disbursed=from_fen(loan.disbursed_fen),
        outstanding=from_fen(loan.outstanding_fen),
        repaid=from_fen(loan.repaid_fen),
        interest_paid=from_fen(loan.interest_paid_fen),
        annual_interest_rate=loan.annual_interest_rate,
        disbursed_on=loan.disbursed_on,
        maturity_on=loan.maturity_on,
        claim_status=loan.claim_status,
        compensation=from_fen(loan.compensation_fen),
        compensation_paid=from_fen(loan.compensation_paid_fen),
        compensation_paid_on=loan.compensation_paid_on,
        compensation_reference=loan.compensation_reference,
        recovered=from_fen(loan.recovered_fen),
        recovered_to_fund=from_fen(loan.fund_recovered_fen),
        last_event_at=loan.last_event_at,
    )


async def list_loans(
    *, session: AsyncSession, batch: Batch, offset: int, limit: int, sort: str = "allocated"
) -> BatchLoanPage:
    """``sort``: allocated, amount, outstanding, state or enterprise; ``-`` first: descending."""
    loans, total = await repo.list_loans(
        session=session,
        batch_id=batch.id,
        offset=offset,
        limit=limit,
        sort=sort.removeprefix("-"),
        descending=sort.startswith("-"),
    )
    return BatchLoanPage(
        items=[loan_public(loan) for loan in loans], total=total, offset=offset, limit=limit
    )


class LoanHistory(NamedTuple):
    loan: BatchLoanPublic
    batch: Batch
    events: Sequence[ReceivedEvent]


async def loan_history(*, session: AsyncSession, loan_id: uuid.UUID) -> LoanHistory | None:
    """A loan as the ledger holds it, its batch and every event its bank sent, oldest first
    (a claim reviewer reads the loan's whole life)."""
    loan = await repo.get_loan(session=session, loan_id=loan_id)
    if loan is None:
        return None
    batch = await repo.get_batch(session=session, batch_id=loan.batch_id)
    assert batch is not None
    events = await repo.events_of_loan(session=session, loan_id=loan_id)
    return LoanHistory(loan_public(loan), batch, events)


async def get_loan(*, session: AsyncSession, loan_id: uuid.UUID) -> BatchLoanPublic:
    loan = await repo.get_loan(session=session, loan_id=loan_id)
    if loan is None:
        raise LoanNotFound(f"没有编号为 {loan_id} 的贷款")
    return loan_public(loan)


async def enterprise_names(
    *, session: AsyncSession, loan_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """Each loan's borrower, for lists that carry only loan ids (the fund's claims)."""
    return await repo.enterprise_names(session=session, loan_ids=loan_ids)


async def of_bank(*, session: AsyncSession, loan_id: uuid.UUID, bank_id: uuid.UUID) -> BatchLoan:
    """The loan, if it is this bank's; another bank's is as unknown as a missing one."""
    loan = await repo.get_loan(session=session, loan_id=loan_id)
    batch = await repo.get_batch(session=session, batch_id=loan.batch_id) if loan else None
    if loan is None or batch is None or batch.bank_id != bank_id:
        raise LoanNotFound(f"没有编号为 {loan_id} 的贷款")
    return loan


async def lent_matching(
    *, session: AsyncSession, text: str, offset: int, limit: int
) -> tuple[list[BatchLoanPublic], int]:
    """Guaranteed loans lent, found by the firm's name or USCC (part of either)."""
    found, total = await repo.lent_loans_matching(
        session=session, text=text.strip()[:60], offset=offset, limit=limit
    )
    return [loan_public(loan) for loan in found], total
