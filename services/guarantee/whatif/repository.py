"""Every query of what-if jobs: the job, its changed cases, the assessments it replays."""

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.guarantee.models import Assessment, WhatIfChange, WhatIfJob, WhatIfStatus
from shared.jobs import queue_work

# The what-if worker's queue (shared/jobs.py wakes it when a job is committed).
WHATIF_QUEUE = "guarantee.whatif"

_assessments: sa.Table = Assessment.__table__  # type: ignore[attr-defined]
_changes: sa.Table = WhatIfChange.__table__  # type: ignore[attr-defined]
_jobs: sa.Table = WhatIfJob.__table__  # type: ignore[attr-defined]


def add_job(session: AsyncSession, job: WhatIfJob) -> None:
    session.add(job)
    queue_work(session, WHATIF_QUEUE)


async def get_job(*, session: AsyncSession, job_id: uuid.UUID) -> WhatIfJob | None:
    return await session.get(WhatIfJob, job_id)


async def claim_job(
    *, session: AsyncSession, now: datetime, lease_until: datetime
) -> WhatIfJob | None:
    """Lease the oldest queued job, or a running one whose worker stopped renewing its lease."""
    claimable = sa.or_(
        _jobs.c.status == WhatIfStatus.QUEUED,
        sa.and_(_jobs.c.status == WhatIfStatus.RUNNING, _jobs.c.lease_until < now),
    )
    candidate = (
        sa.select(_jobs.c.id)
        .where(claimable)
        .order_by(_jobs.c.created_at)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    result = await session.execute(
        sa.update(_jobs)
        .where(_jobs.c.id == candidate, claimable)
        .values(
            status=WhatIfStatus.RUNNING,
            lease_until=lease_until,
            attempts=_jobs.c.attempts + 1,
            started_at=sa.func.coalesce(_jobs.c.started_at, now),
            processed=0,
        )
        .returning(_jobs.c.id)
    )
    job_id = result.scalar_one_or_none()
    if job_id is None:
        return None
    # A job taken over from a stopped worker starts again from the beginning.
    await session.execute(sa.delete(_changes).where(_changes.c.job_id == job_id))
    return await session.get(WhatIfJob, job_id, populate_existing=True)


async def update_job(*, session: AsyncSession, job_id: uuid.UUID, **values: Any) -> None:
    await session.execute(sa.update(_jobs).where(_jobs.c.id == job_id).values(**values))


def _period(period_from: date, period_to: date) -> Any:
    return sa.and_(_assessments.c.as_of >= period_from, _assessments.c.as_of <= period_to)


async def count_assessments(*, session: AsyncSession, period_from: date, period_to: date) -> int:
    total = await session.scalar(
        sa.select(sa.func.count()).select_from(_assessments).where(_period(period_from, period_to))
    )
    return total or 0


async def assessments_page(
    *,
    session: AsyncSession,
    period_from: date,
    period_to: date,
    after: tuple[date, uuid.UUID] | None,
    limit: int,
) -> Sequence[sa.Row[Any]]:
    """The next ``limit`` assessments of the period in (as_of, id) order (keyset pagination)."""
    c = _assessments.c
    # Only the verdicts and points of the trace, not the derived fields it also holds.
    query = sa.select(
        c.id,
        c.application_id,
        c.as_of,
        c.request,
        c.decision,
        c.score,
        c.terms,
        c.trace["rules"].label("rules"),
        c.trace["factors"].label("factors"),
        # The firm's exposure when it applied: the replay sees the firm as it was.
        c.trace["fields"]["firm_outstanding"].label("firm_outstanding"),
        c.trace["fields"]["firm_pending"].label("firm_pending"),
        # And its facts as the reference lists showed them (issue 18).
        c.trace["facts"].label("facts"),
    ).where(_period(period_from, period_to))
    if after is not None:
        query = query.where(sa.tuple_(c.as_of, c.id) > sa.tuple_(*after))
    result = await session.execute(query.order_by(c.as_of, c.id).limit(limit))
    return result.all()


async def insert_changes(*, session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(sa.insert(_changes), rows)


async def list_changes(
    *, session: AsyncSession, job_id: uuid.UUID, offset: int, limit: int
) -> tuple[Sequence[WhatIfChange], int]:
    total = await session.scalar(
        sa.select(sa.func.count()).select_from(_changes).where(_changes.c.job_id == job_id)
    )
    result = await session.execute(
        select(WhatIfChange)
        .where(WhatIfChange.job_id == job_id)
        .order_by(col(WhatIfChange.as_of), col(WhatIfChange.id))
        .offset(offset)
        .limit(limit)
    )
    return result.scalars().all(), total or 0


async def firms_of(
    *, session: AsyncSession, assessment_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[str, str]]:
    """Each assessment's firm as its request named it: (USCC, name)."""
    if not assessment_ids:
        return {}
    result = await session.execute(
        sa.select(
            col(Assessment.id), col(Assessment.enterprise_uscc), col(Assessment.request)
        ).where(col(Assessment.id).in_(list(assessment_ids)))
    )
    return {
        row[0]: (row[1], str((row[2] or {}).get("enterprise", {}).get("name", "")))
        for row in result.all()
    }
