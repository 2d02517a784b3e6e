"""Every query of assessments, and of what a firm already has from the fund (its 在保余额
and applications in flight): read from the tables here because assessments sit below
guarantees in the service's layers."""

import uuid
from collections.abc import Collection, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
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


async def lock_firms(*, session: AsyncSession, usccs: Collection[str]) -> None:
    """One assessment of a firm at a time, to the end of the transaction: two applications
    of one firm assessed at once would each see the other's room as free. All of a batch's
    firms in one statement, in one order (two batches sharing firms wait for each other
    instead of deadlocking; the locks are re-entrant). (SQLite: the transaction began
    IMMEDIATE, writers already queue.)"""
    if not usccs or session.get_bind().dialect.name != "postgresql":
        return
    firms = sa.select(sa.func.unnest(sa.bindparam("usccs", type_=ARRAY(sa.Text))).label("u"))
    ordered = firms.order_by("u").subquery()
    await session.execute(
        sa.select(
            sa.func.pg_advisory_xact_lock(sa.func.hashtext(sa.literal("firm:") + ordered.c.u))
        ),
        {"usccs": sorted(usccs)},
    )


async def firms_outstanding_fen(*, session: AsyncSession, usccs: Collection[str]) -> dict[str, int]:
    """在保余额 of each firm's guarantees, across batches and banks (absent: none)."""
    rows = await session.execute(
        sa.select(_guarantees.c.enterprise_uscc, sa.func.sum(_guarantees.c.outstanding_fen))
        .where(_guarantees.c.enterprise_uscc.in_(list(usccs)))
        .group_by(_guarantees.c.enterprise_uscc)
    )
    return {uscc: int(total or 0) for uscc, total in rows.all()}


async def firms_pending_requests(
    *, session: AsyncSession, usccs: Collection[str]
) -> dict[str, list[dict[str, Any]]]:
    """Per firm, the requests of its applications assessed eligible or referred that are
    neither lent (no guarantee) nor lapsed."""
    lent = sa.select(_guarantees.c.application_id).where(
        _guarantees.c.application_id == _assessments.c.application_id
    )
    lapsed = sa.select(_lapsed.c.application_id).where(
        _lapsed.c.application_id == _assessments.c.application_id
    )
    rows = await session.execute(
        sa.select(_assessments.c.enterprise_uscc, _assessments.c.request).where(
            _assessments.c.enterprise_uscc.in_(list(usccs)),
            _assessments.c.decision.in_(("eligible", "referred")),
            ~lent.exists(),
            ~lapsed.exists(),
        )
    )
    pending: dict[str, list[dict[str, Any]]] = {}
    for uscc, request in rows.all():
        pending.setdefault(uscc, []).append(request)
    return pending


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
