"""The console's own queries: what its pages list, read in one go. Changes go through the
domains' services (so four eyes, permissions and audit are the API's); reads that only a
page needs live here."""

import uuid
from collections.abc import Sequence
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.bank_gateway.models import Batch, BatchLoan, PartnerBank, SubsidyPayout


class BatchRow(NamedTuple):
    batch: Batch
    bank: PartnerBank
    loans: int


async def list_banks(*, session: AsyncSession) -> Sequence[PartnerBank]:
    result = await session.execute(select(PartnerBank).order_by(col(PartnerBank.code)))
    return result.scalars().all()


async def list_batches(
    *, session: AsyncSession, bank_code: str | None, status: str | None, offset: int, limit: int
) -> tuple[list[BatchRow], int]:
    """The batch list: each batch with its bank and number of loans, newest first."""
    where = []
    if bank_code:
        where.append(PartnerBank.code == bank_code)
    if status:
        where.append(Batch.status == status)
    joined = sa.join(Batch, PartnerBank, col(PartnerBank.id) == col(Batch.bank_id))
    total = await session.scalar(sa.select(sa.func.count()).select_from(joined).where(*where))
    result = await session.execute(
        select(Batch, PartnerBank)
        .join(PartnerBank, col(PartnerBank.id) == col(Batch.bank_id))
        .where(*where)
        .order_by(col(Batch.created_at).desc(), col(Batch.id))
        .offset(offset)
        .limit(limit)
    )
    page = result.all()
    # The page's batches' loans only (by the batch_id index): counting every batch's loans
    # and joining the page to them was 437 ms at a million loans (bench/README.md).
    counted = await session.execute(
        sa.select(col(BatchLoan.batch_id), sa.func.count())
        .where(col(BatchLoan.batch_id).in_([batch.id for batch, _ in page]))
        .group_by(col(BatchLoan.batch_id))
    )
    loans = dict(counted.all())
    return [BatchRow(batch, bank, int(loans.get(batch.id, 0))) for batch, bank in page], int(
        total or 0
    )


async def enterprise_names(*, session: AsyncSession, usccs: Sequence[str]) -> dict[str, str]:
    """Each firm's name as its latest allocated application gave it."""
    if not usccs:
        return {}
    result = await session.execute(
        sa.select(col(BatchLoan.enterprise_uscc), col(BatchLoan.enterprise_name))
        .where(col(BatchLoan.enterprise_uscc).in_(list(usccs)))
        .order_by(col(BatchLoan.created_at))
    )
    return {uscc: name for uscc, name in result.all()}


async def batch_names(
    *, session: AsyncSession, batch_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str]:
    if not batch_ids:
        return {}
    result = await session.execute(
        sa.select(col(Batch.id), col(Batch.name)).where(col(Batch.id).in_(list(batch_ids)))
    )
    return {batch_id: name for batch_id, name in result.all()}


async def subsidy_payouts_of(*, session: AsyncSession, uscc: str) -> Sequence[SubsidyPayout]:
    """What the bureau paid this firm, period by period (拨付)."""
    result = await session.execute(
        select(SubsidyPayout)
        .where(SubsidyPayout.enterprise_uscc == uscc)
        .order_by(col(SubsidyPayout.paid_on), col(SubsidyPayout.period_key))
    )
    return result.scalars().all()
