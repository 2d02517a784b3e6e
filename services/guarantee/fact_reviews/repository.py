"""Every query of firms' requests for review."""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.guarantee.models import FactReview


def add(session: AsyncSession, review: FactReview) -> None:
    session.add(review)


async def get(
    *, session: AsyncSession, review_id: uuid.UUID, lock: bool = False
) -> FactReview | None:
    query = select(FactReview).where(FactReview.id == review_id)
    if lock:
        query = query.with_for_update()
    result = await session.execute(query.execution_options(populate_existing=True))
    return result.scalar_one_or_none()


async def pending_of(
    *, session: AsyncSession, application_id: uuid.UUID, flag: str
) -> FactReview | None:
    result = await session.execute(
        select(FactReview).where(
            FactReview.application_id == application_id,
            FactReview.flag == flag,
            FactReview.status == "pending",
        )
    )
    return result.scalars().first()


async def page(
    *,
    session: AsyncSession,
    status: str | None,
    application_id: uuid.UUID | None,
    offset: int,
    limit: int,
) -> tuple[Sequence[FactReview], int]:
    where = []
    if status:
        where.append(FactReview.status == status)
    if application_id:
        where.append(FactReview.application_id == application_id)
    total = await session.scalar(sa.select(sa.func.count()).select_from(FactReview).where(*where))
    result = await session.execute(
        select(FactReview)
        .where(*where)
        # Pending first, the oldest first: the clerk's queue.
        .order_by(
            (col(FactReview.status) != "pending"),
            col(FactReview.created_at),
            col(FactReview.id),
        )
        .offset(offset)
        .limit(limit)
    )
    return result.scalars().all(), int(total or 0)
