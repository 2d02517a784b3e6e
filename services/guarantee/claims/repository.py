"""Every query of claims, recoveries and each batch's compensation account."""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.guarantee.models import BatchCompensation, Claim, Recovery
from shared.clock import utcnow
from shared.db import dialect_insert

_compensation: sa.Table = BatchCompensation.__table__  # type: ignore[attr-defined]


async def lock_batch_compensation(
    *, session: AsyncSession, batch_id: uuid.UUID
) -> BatchCompensation:
    """The batch's compensation account, created if new, locked until the transaction ends:
    claims of one batch are decided one after another."""
    await session.execute(
        dialect_insert(session, _compensation)
        .values(batch_id=batch_id, paid_fen=0, fund_recovered_fen=0, updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["batch_id"])
    )
    account = await session.get(
        BatchCompensation, batch_id, with_for_update=True, populate_existing=True
    )
    assert account is not None
    return account


async def claim_for_loan(
    *, session: AsyncSession, loan_id: uuid.UUID, for_update: bool = False
) -> Claim | None:
    query = select(Claim).where(Claim.loan_id == loan_id)
    if for_update:
        query = query.with_for_update()
    result = await session.execute(query.execution_options(populate_existing=True))
    return result.scalar_one_or_none()


async def cut_claims(*, session: AsyncSession, batch_id: uuid.UUID) -> Sequence[Claim]:
    """The batch's claims the ceiling ever cut (open or since topped up), oldest first,
    locked: decided one after another like new claims."""
    result = await session.execute(
        select(Claim)
        .where(Claim.batch_id == batch_id, col(Claim.ceiling_cut).is_(True))
        .order_by(col(Claim.decided_at), col(Claim.id))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return result.scalars().all()


async def list_claims(
    *,
    session: AsyncSession,
    batch_id: uuid.UUID | None,
    outcome: str | None,
    offset: int,
    limit: int,
) -> tuple[Sequence[Claim], int]:
    where = []
    if batch_id is not None:
        where.append(Claim.batch_id == batch_id)
    if outcome is not None:
        where.append(Claim.outcome == outcome)
    total = await session.scalar(sa.select(sa.func.count()).select_from(Claim).where(*where))
    result = await session.execute(
        select(Claim)
        .where(*where)
        .order_by(col(Claim.decided_at).desc(), col(Claim.id))
        .offset(offset)
        .limit(limit)
    )
    return result.scalars().all(), total or 0


async def recoveries_of(
    *, session: AsyncSession, claim_ids: Sequence[uuid.UUID]
) -> Sequence[Recovery]:
    if not claim_ids:
        return []
    result = await session.execute(
        select(Recovery)
        .where(col(Recovery.claim_id).in_(claim_ids))
        .order_by(col(Recovery.recorded_at), col(Recovery.id))
    )
    return result.scalars().all()


async def get_recovery(*, session: AsyncSession, recovery_id: uuid.UUID) -> Recovery | None:
    return await session.get(Recovery, recovery_id)


def add(session: AsyncSession, row: Claim | Recovery) -> None:
    session.add(row)
