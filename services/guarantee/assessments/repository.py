"""Every query of assessments, and of what a firm already has from the fund (its 在保余额
and applications in flight): read from the tables here because assessments sit below
guarantees in the service's layers."""

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.guarantee.models import Assessment, Guarantee, LapsedApplication
from shared.clock import utcnow

_assessments: sa.Table = Assessment.__table__  # type: ignore[attr-defined]
_guarantees: sa.Table = Guarantee.__table__  # type: ignore[attr-defined]
_lapsed: sa.Table = LapsedApplication.__table__  # type: ignore[attr-defined]


async def assessments_for_applications(
    *, session: AsyncSession, application_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Assessment]:
    if not application_ids:
        return {}
    result = await session.execute(
        select(Assessment).where(col(Assessment.application_id).in_(application_ids))
    )
    return {a.application_id: a for a in result.scalars().all()}


async def get_assessment(*, session: AsyncSession, assessment_id: uuid.UUID) -> Assessment | None:
    return await session.get(Assessment, assessment_id)


async def insert_assessments(*, session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(sa.insert(_assessments), rows)


async def lock_firm(*, session: AsyncSession, uscc: str) -> None:
    """One assessment of a firm at a time, to the end of the transaction: two applications
    of one firm assessed at once would each see the other's room as free. (SQLite: the
    transaction began IMMEDIATE, writers already queue.)"""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(f"firm:{uscc}")))
        )


async def firm_outstanding_fen(*, session: AsyncSession, uscc: str) -> int:
    """在保余额 of the firm's guarantees, across batches and banks."""
    total = await session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(_guarantees.c.outstanding_fen), 0)).where(
            _guarantees.c.enterprise_uscc == uscc
        )
    )
    return int(total or 0)


async def firm_pending_requests(*, session: AsyncSession, uscc: str) -> list[dict[str, Any]]:
    """The requests of the firm's applications assessed eligible or referred that are
    neither lent (no guarantee) nor lapsed."""
    lent = sa.select(_guarantees.c.application_id).where(
        _guarantees.c.application_id == _assessments.c.application_id
    )
    lapsed = sa.select(_lapsed.c.application_id).where(
        _lapsed.c.application_id == _assessments.c.application_id
    )
    rows = await session.execute(
        sa.select(_assessments.c.request).where(
            _assessments.c.enterprise_uscc == uscc,
            _assessments.c.decision.in_(("eligible", "referred")),
            ~lent.exists(),
            ~lapsed.exists(),
        )
    )
    return [request for (request,) in rows.all()]


async def record_lapses(*, session: AsyncSession, application_ids: Sequence[uuid.UUID]) -> int:
    """Each application lapsed once; one told again changes nothing. How many are new."""
    known = set(
        (
            await session.execute(
                sa.select(_lapsed.c.application_id).where(
                    _lapsed.c.application_id.in_(list(application_ids))
                )
            )
        ).scalars()
    )
    now = utcnow()
    new = [
        {"application_id": a, "lapsed_at": now}
        for a in dict.fromkeys(application_ids)
        if a not in known
    ]
    if new:
        await session.execute(sa.insert(_lapsed), new)
    return len(new)
