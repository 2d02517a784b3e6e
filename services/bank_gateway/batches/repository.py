"""Every query about batches and the loans allocated into them."""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.bank_gateway.models import Batch, BatchLoan

_batches: sa.Table = Batch.__table__  # type: ignore[attr-defined]
_loans: sa.Table = BatchLoan.__table__  # type: ignore[attr-defined]


def add(session: AsyncSession, row: Batch | BatchLoan) -> None:
    session.add(row)


async def get_batch(
    *, session: AsyncSession, batch_id: uuid.UUID, for_update: bool = False
) -> Batch | None:
    return await session.get(
        Batch, batch_id, with_for_update=for_update or None, populate_existing=True
    )


async def list_batches(
    *,
    session: AsyncSession,
    bank_id: uuid.UUID | None,
    status: str | None,
    offset: int,
    limit: int,
) -> tuple[Sequence[Batch], int]:
    where = []
    if bank_id is not None:
        where.append(Batch.bank_id == bank_id)
    if status is not None:
        where.append(Batch.status == status)
    total = await session.scalar(sa.select(sa.func.count()).select_from(Batch).where(*where))
    result = await session.execute(
        select(Batch)
        .where(*where)
        .order_by(col(Batch.created_at).desc())
        .offset(offset)
        .limit(limit)
    )
    return result.scalars().all(), total or 0


async def count_loans(*, session: AsyncSession, batch_ids: Sequence[uuid.UUID]) -> dict:
    if not batch_ids:
        return {}
    result = await session.execute(
        sa.select(_loans.c.batch_id, sa.func.count())
        .where(_loans.c.batch_id.in_(batch_ids))
        .group_by(_loans.c.batch_id)
    )
    return dict(result.all())


async def reserve_quota(*, session: AsyncSession, batch_id: uuid.UUID, amount_fen: int) -> bool:
    """Add ``amount_fen`` to the batch's allocation if it still fits; one statement, so two
    concurrent allocations can never both take the last of the quota."""
    result = await session.execute(
        sa.update(_batches)
        .where(
            _batches.c.id == batch_id,
            _batches.c.allocated_fen + amount_fen <= _batches.c.quota_fen,
        )
        .values(allocated_fen=_batches.c.allocated_fen + amount_fen)
        .returning(_batches.c.id)
    )
    return result.scalar_one_or_none() is not None


async def loan_for_application(
    *, session: AsyncSession, application_id: uuid.UUID
) -> BatchLoan | None:
    result = await session.execute(
        select(BatchLoan).where(BatchLoan.application_id == application_id)
    )
    return result.scalar_one_or_none()


async def allocated_among(
    *, session: AsyncSession, application_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of these applications are in a batch already."""
    if not application_ids:
        return set()
    result = await session.execute(
        sa.select(_loans.c.application_id).where(_loans.c.application_id.in_(application_ids))
    )
    return set(result.scalars().all())


async def firms_in_flight(
    *, session: AsyncSession, usccs: list[str], states: tuple[str, ...]
) -> dict[str, int]:
    """Per firm, the amount (fen) of its loans in any batch in one of ``states``."""
    result = await session.execute(
        sa.select(BatchLoan.enterprise_uscc, sa.func.sum(BatchLoan.amount_fen))
        .where(col(BatchLoan.enterprise_uscc).in_(usccs), col(BatchLoan.state).in_(states))
        .group_by(BatchLoan.enterprise_uscc)
    )
    return {uscc: int(fen or 0) for uscc, fen in result.all()}


async def loans_of_batch(
    *, session: AsyncSession, batch_id: uuid.UUID, application_ids: Sequence[uuid.UUID] = ()
) -> Sequence[BatchLoan]:
    """The batch's loans in allocation order (only those of ``application_ids`` if given)."""
    query = select(BatchLoan).where(BatchLoan.batch_id == batch_id)
    if application_ids:
        query = query.where(col(BatchLoan.application_id).in_(application_ids))
    result = await session.execute(query.order_by(col(BatchLoan.created_at), col(BatchLoan.id)))
    return result.scalars().all()
