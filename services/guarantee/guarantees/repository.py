"""Every query of guarantees in force."""

import uuid
from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.guarantee.models import Assessment, Guarantee

_guarantees: sa.Table = Guarantee.__table__  # type: ignore[attr-defined]


async def guarantee_for_loan(
    *, session: AsyncSession, loan_id: uuid.UUID, for_update: bool = False
) -> Guarantee | None:
    query = select(Guarantee).where(Guarantee.loan_id == loan_id)
    if for_update:
        query = query.with_for_update()
    result = await session.execute(query.execution_options(populate_existing=True))
    return result.scalar_one_or_none()


async def guarantees_by_loan(
    *, session: AsyncSession, loan_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Guarantee]:
    result = await session.execute(select(Guarantee).where(col(Guarantee.loan_id).in_(loan_ids)))
    return {g.loan_id: g for g in result.scalars().all()}


async def guarantee_for_application(
    *, session: AsyncSession, application_id: uuid.UUID
) -> Guarantee | None:
    query = select(Guarantee).where(Guarantee.application_id == application_id)
    return (await session.execute(query)).scalars().first()


async def guarantees_with_periods_between(
    *, session: AsyncSession, first_day: date, last_day: date
) -> Sequence[Guarantee]:
    """Guarantees whose life overlaps the days: their schedules hold the periods due."""
    result = await session.execute(
        select(Guarantee).where(
            Guarantee.disbursed_on <= last_day, Guarantee.maturity_on >= first_day
        )
    )
    return result.scalars().all()


async def guarantees_collected_between(
    *, session: AsyncSession, first_day: date, last_day: date
) -> Sequence[Guarantee]:
    """Guarantees that may hold a fee receipt between the days (disbursed by the last one);
    the receipts' days are read from each."""
    result = await session.execute(select(Guarantee).where(Guarantee.disbursed_on <= last_day))
    return [g for g in result.scalars().all() if g.fee_collections]


async def assessment_for_application(
    *, session: AsyncSession, application_id: uuid.UUID
) -> Assessment | None:
    result = await session.execute(
        select(Assessment).where(Assessment.application_id == application_id)
    )
    return result.scalar_one_or_none()


async def guaranteed_volume(*, session: AsyncSession, batch_id: uuid.UUID) -> int:
    """Principal of every guarantee issued in the batch, in fen."""
    total = await session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(_guarantees.c.principal_fen), 0)).where(
            _guarantees.c.batch_id == batch_id
        )
    )
    return int(total or 0)


_GROUP_COLUMNS = {
    "enterprise": _guarantees.c.enterprise_uscc,
    "batch": _guarantees.c.batch_id,
    "bank": _guarantees.c.bank_code,
    "policy_version": _guarantees.c.policy_version_id,
}


async def exposure(
    *, session: AsyncSession, group: str, offset: int, limit: int
) -> tuple[list[tuple[str, int, int]], tuple[int, int, int]]:
    """在保余额 of guarantees in force (outstanding > 0) per key of ``group``, largest first:
    (rows of (key, guarantees, outstanding fen), (keys, guarantees, outstanding fen) overall)."""
    column = _GROUP_COLUMNS[group]
    in_force = _guarantees.c.outstanding_fen > 0
    outstanding = sa.func.sum(_guarantees.c.outstanding_fen)
    rows = await session.execute(
        sa.select(column, sa.func.count(), outstanding)
        .where(in_force)
        .group_by(column)
        .order_by(outstanding.desc(), column)
        .offset(offset)
        .limit(limit)
    )
    totals = (
        await session.execute(
            sa.select(
                sa.func.count(sa.distinct(column)),
                sa.func.count(),
                sa.func.coalesce(sa.func.sum(_guarantees.c.outstanding_fen), 0),
            ).where(in_force)
        )
    ).one()
    return (
        [(str(key), int(n), int(fen)) for key, n, fen in rows.all()],
        (int(totals[0]), int(totals[1]), int(totals[2])),
    )


async def outstanding_of_firms(*, session: AsyncSession, usccs: list[str]) -> dict[str, int]:
    """在保余额 (fen) of each firm that has any."""
    result = await session.execute(
        sa.select(_guarantees.c.enterprise_uscc, sa.func.sum(_guarantees.c.outstanding_fen))
        .where(_guarantees.c.enterprise_uscc.in_(usccs))
        .group_by(_guarantees.c.enterprise_uscc)
    )
    return {uscc: int(fen or 0) for uscc, fen in result.all()}


async def guarantees_of_enterprise(*, session: AsyncSession, uscc: str) -> Sequence[Guarantee]:
    """Every guarantee of the firm, in force first, newest first."""
    result = await session.execute(
        select(Guarantee)
        .where(Guarantee.enterprise_uscc == uscc)
        .order_by((Guarantee.outstanding_fen > 0).desc(), Guarantee.disbursed_on.desc())
    )
    return result.scalars().all()


def add(session: AsyncSession, guarantee: Guarantee) -> None:
    session.add(guarantee)
