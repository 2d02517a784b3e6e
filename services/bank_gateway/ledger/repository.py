"""Every query of the loan ledger: loans, the events banks sent, figures per batch and bank."""

import typing
import uuid
from collections.abc import Sequence
from datetime import date
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.bank_gateway.models import Batch, BatchLoan, MoneyEntry, PartnerBank, ReceivedEvent

_loans: sa.Table = BatchLoan.__table__  # type: ignore[attr-defined]


def add(session: AsyncSession, record: ReceivedEvent | MoneyEntry) -> None:
    session.add(record)


async def received_events(
    *, session: AsyncSession, bank_id: uuid.UUID, keys: Sequence[str]
) -> dict[str, ReceivedEvent]:
    if not keys:
        return {}
    result = await session.execute(
        select(ReceivedEvent).where(
            ReceivedEvent.bank_id == bank_id, col(ReceivedEvent.event_key).in_(keys)
        )
    )
    return {r.event_key: r for r in result.scalars().all()}


async def events_of_loan(
    *, session: AsyncSession, loan_id: uuid.UUID, limit: int = 500
) -> Sequence[ReceivedEvent]:
    """The events a bank sent about one loan, in the order they came."""
    result = await session.execute(
        select(ReceivedEvent)
        .where(ReceivedEvent.loan_id == loan_id)
        .order_by(col(ReceivedEvent.received_at), col(ReceivedEvent.id))
        .limit(limit)
    )
    return result.scalars().all()


async def enterprise_names(
    *, session: AsyncSession, loan_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str]:
    if not loan_ids:
        return {}
    result = await session.execute(
        sa.select(_loans.c.id, _loans.c.enterprise_name).where(_loans.c.id.in_(loan_ids))
    )
    return {row.id: row.enterprise_name for row in result}


async def lent_loans_of(
    *, session: AsyncSession, batch_id: uuid.UUID | None
) -> Sequence[BatchLoan]:
    """Every loan the bank lent (of one batch, or all), in a stable order."""
    query = select(BatchLoan).where(
        col(BatchLoan.state).not_in(["allocated", "approved", "declined"])
    )
    if batch_id is not None:
        query = query.where(BatchLoan.batch_id == batch_id)
    result = await session.execute(query.order_by(col(BatchLoan.created_at), col(BatchLoan.id)))
    return result.scalars().all()


async def get_loan(*, session: AsyncSession, loan_id: uuid.UUID) -> BatchLoan | None:
    return await session.get(BatchLoan, loan_id)


async def lock_loans(
    *, session: AsyncSession, loan_ids: set[uuid.UUID]
) -> dict[uuid.UUID, BatchLoan]:
    """The loans, locked in id order (two requests never lock them in crossing orders)."""
    if not loan_ids:
        return {}
    result = await session.execute(
        select(BatchLoan)
        .where(col(BatchLoan.id).in_(loan_ids))
        .order_by(col(BatchLoan.id))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {loan.id: loan for loan in result.scalars().all()}


async def lock_loans_with_batches(
    *, session: AsyncSession, loan_ids: set[uuid.UUID]
) -> tuple[dict[uuid.UUID, BatchLoan], dict[uuid.UUID, Batch], set[uuid.UUID]]:
    """The loans (locked in id order), their batches, and which loans have events held:
    one query for what a bank event needs."""
    if not loan_ids:
        return {}, {}, set()
    held = (
        sa.select(ReceivedEvent.id)
        .where(ReceivedEvent.loan_id == BatchLoan.id, ReceivedEvent.status == "held")
        .exists()
    )
    result = await session.execute(
        select(BatchLoan, Batch, held)
        .join(Batch, col(Batch.id) == col(BatchLoan.batch_id))
        .where(col(BatchLoan.id).in_(loan_ids))
        .order_by(col(BatchLoan.id))
        .with_for_update(of=BatchLoan)
        .execution_options(populate_existing=True)
    )
    loans, batches, waiting = {}, {}, set()
    for loan, batch, has_held in result.all():
        loans[loan.id], batches[batch.id] = loan, batch
        if has_held:
            waiting.add(loan.id)
    return loans, batches, waiting


async def held_events_of(
    *, session: AsyncSession, loan_ids: set[uuid.UUID]
) -> Sequence[ReceivedEvent]:
    if not loan_ids:
        return []
    result = await session.execute(
        select(ReceivedEvent)
        .where(col(ReceivedEvent.loan_id).in_(loan_ids), ReceivedEvent.status == "held")
        .order_by(col(ReceivedEvent.received_at), col(ReceivedEvent.id))
    )
    return result.scalars().all()


async def get_batch(*, session: AsyncSession, batch_id: uuid.UUID) -> Batch | None:
    return await session.get(Batch, batch_id, populate_existing=True)


async def batches_by_id(
    *, session: AsyncSession, batch_ids: set[uuid.UUID]
) -> dict[uuid.UUID, Batch]:
    if not batch_ids:
        return {}
    query = select(Batch).where(col(Batch.id).in_(batch_ids)).order_by(col(Batch.id))
    result = await session.execute(query.execution_options(populate_existing=True))
    return {b.id: b for b in result.scalars().all()}


async def loans_of_batch(*, session: AsyncSession, batch_id: uuid.UUID) -> Sequence[BatchLoan]:
    result = await session.execute(
        select(BatchLoan)
        .where(BatchLoan.batch_id == batch_id)
        .order_by(col(BatchLoan.created_at), col(BatchLoan.id))
    )
    return result.scalars().all()


LOAN_ORDER = {
    "allocated": _loans.c.created_at,
    "amount": _loans.c.amount_fen,
    "outstanding": _loans.c.outstanding_fen,
    "state": _loans.c.state,
    "enterprise": _loans.c.enterprise_name,
}


async def list_loans(
    *,
    session: AsyncSession,
    batch_id: uuid.UUID,
    offset: int,
    limit: int,
    sort: str = "allocated",
    descending: bool = False,
) -> tuple[Sequence[BatchLoan], int]:
    total = await session.scalar(
        sa.select(sa.func.count()).select_from(_loans).where(_loans.c.batch_id == batch_id)
    )
    column = LOAN_ORDER[sort]
    result = await session.execute(
        select(BatchLoan)
        .where(BatchLoan.batch_id == batch_id)
        .order_by(column.desc() if descending else column, col(BatchLoan.id))
        .offset(offset)
        .limit(limit)
    )
    return result.scalars().all(), total or 0


async def lent_loans_matching(
    *, session: AsyncSession, text: str, offset: int, limit: int
) -> tuple[Sequence[BatchLoan], int]:
    """Loans lent under a guarantee whose firm's name or USCC holds ``text``, the latest
    disbursal first."""
    where = [col(BatchLoan.disbursed_on).is_not(None), BatchLoan.state != "unguaranteed"]
    if text:
        where.append(
            sa.or_(
                col(BatchLoan.enterprise_name).contains(text, autoescape=True),
                col(BatchLoan.enterprise_uscc).contains(text, autoescape=True),
            )
        )
    total = await session.scalar(sa.select(sa.func.count()).select_from(BatchLoan).where(*where))
    result = await session.execute(
        select(BatchLoan)
        .where(*where)
        .order_by(col(BatchLoan.disbursed_on).desc(), col(BatchLoan.id))
        .offset(offset)
        .limit(limit)
    )
    return result.scalars().all(), total or 0


class LoanFigures(NamedTuple):
    state: str
    claim_status: str | None
    loans: int
    disbursed_fen: int
    outstanding_fen: int
    compensation_fen: int
    fund_recovered_fen: int


async def loan_figures(*, session: AsyncSession, batch_id: uuid.UUID) -> list[LoanFigures]:
    """The batch's loans summed per (state, claim status), amounts in fen."""
    result = await session.execute(
        sa.select(
            _loans.c.state,
            _loans.c.claim_status,
            sa.func.count(),
            *(
                sa.func.coalesce(sa.func.sum(column), 0)
                for column in (
                    _loans.c.disbursed_fen,
                    _loans.c.outstanding_fen,
                    _loans.c.compensation_fen,
                    _loans.c.fund_recovered_fen,
                )
            ),
        )
        .where(_loans.c.batch_id == batch_id)
        .group_by(_loans.c.state, _loans.c.claim_status)
    )
    return [LoanFigures(state, claim, *(int(v) for v in rest)) for state, claim, *rest in result]


async def undecided_defaults(
    *, session: AsyncSession, batch_id: uuid.UUID, states: set[str]
) -> list[tuple[int, dict[str, typing.Any] | None]]:
    """(outstanding fen, frozen terms) of the batch's loans in default whose claim is not
    decided yet: the fund's exposure is its coverage of them."""
    result = await session.execute(
        sa.select(_loans.c.outstanding_fen, _loans.c.terms).where(
            _loans.c.batch_id == batch_id,
            _loans.c.state.in_(states),
            sa.or_(_loans.c.claim_status.is_(None), _loans.c.claim_status == "pending"),
        )
    )
    return [(int(fen), terms) for fen, terms in result.all()]


async def loans_of_bank(*, session: AsyncSession, bank_id: uuid.UUID) -> Sequence[BatchLoan]:
    result = await session.execute(
        select(BatchLoan)
        .join(Batch, col(Batch.id) == col(BatchLoan.batch_id))
        .where(Batch.bank_id == bank_id)
    )
    return result.scalars().all()


async def held_counts(*, session: AsyncSession, bank_id: uuid.UUID) -> dict[uuid.UUID, int]:
    result = await session.execute(
        sa.select(ReceivedEvent.loan_id, sa.func.count())
        .where(ReceivedEvent.bank_id == bank_id, ReceivedEvent.status == "held")
        .group_by(ReceivedEvent.loan_id)
    )
    return {loan_id: int(n) for loan_id, n in result.all() if loan_id is not None}


async def has_claims_in(
    *, session: AsyncSession, batch_id: uuid.UUID, outcomes: tuple[str, ...]
) -> bool:
    """Whether a loan of the batch has a claim decided with one of ``outcomes``."""
    found = await session.scalar(
        sa.select(BatchLoan.id)
        .where(BatchLoan.batch_id == batch_id, col(BatchLoan.claim_status).in_(outcomes))
        .limit(1)
    )
    return found is not None


async def lent_loans(*, session: AsyncSession, disbursed_by: date) -> list[tuple[BatchLoan, str]]:
    """(loan, bank code) of every loan disbursed by the day that the fund stood behind (a
    refused 备案 is outside the programme): what 贴息 is computed from."""
    result = await session.execute(
        sa.select(BatchLoan, PartnerBank.code)
        .join(Batch, col(Batch.id) == col(BatchLoan.batch_id))
        .join(PartnerBank, col(PartnerBank.id) == col(Batch.bank_id))
        .where(
            col(BatchLoan.disbursed_on).is_not(None),
            col(BatchLoan.disbursed_on) <= disbursed_by,
            BatchLoan.state != "unguaranteed",
        )
    )
    return [(loan, code) for loan, code in result.all()]


async def overdue_days(
    *, session: AsyncSession, loan_ids: set[uuid.UUID]
) -> dict[uuid.UUID, list[date]]:
    """Each loan's days it fell overdue, as its applied ``loan.overdue`` events say."""
    found: dict[uuid.UUID, list[date]] = {}
    if not loan_ids:
        return found
    result = await session.execute(
        sa.select(ReceivedEvent.loan_id, ReceivedEvent.payload).where(
            ReceivedEvent.event_type == "loan.overdue",
            ReceivedEvent.status == "applied",
            col(ReceivedEvent.loan_id).in_(loan_ids),
        )
    )
    for loan_id, payload in result.all():
        since = (payload.get("data") or {}).get("since")
        if loan_id is not None and since:
            found.setdefault(loan_id, []).append(date.fromisoformat(str(since)))
    return found


async def return_quota(*, session: AsyncSession, batch_id: uuid.UUID, amount_fen: int) -> None:
    """A loan's allocation back to its batch's quota, in one statement (allocations race)."""
    batches: sa.Table = Batch.__table__  # type: ignore[attr-defined]
    await session.execute(
        sa.update(batches)
        .where(batches.c.id == batch_id)
        .values(allocated_fen=batches.c.allocated_fen - amount_fen)
    )
