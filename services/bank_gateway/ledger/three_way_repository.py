"""The kept three-way reconciliation runs (models/three_way_run.py): asked for, claimed by
the worker, finished; the last one for the console."""

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.bank_gateway.models import ThreeWayRun
from shared.clock import utcnow
from shared.jobs import queue_work

QUEUE = "gateway.three_way"
_runs = ThreeWayRun.__table__  # type: ignore[attr-defined]


async def request_run(*, session: AsyncSession, requested_by: str) -> uuid.UUID:
    """A run asked for; one already waiting or running answers instead of a second."""
    waiting = await session.scalar(
        sa.select(_runs.c.id).where(_runs.c.status.in_(("queued", "running"))).limit(1)
    )
    if waiting is not None:
        return waiting
    run_id = uuid.uuid4()
    await session.execute(
        sa.insert(_runs).values(
            id=run_id, status="queued", requested_by=requested_by, requested_at=utcnow()
        )
    )
    queue_work(session, QUEUE)
    return run_id


async def claim_run(*, session: AsyncSession, scheduled: bool) -> uuid.UUID | None:
    """The oldest run asked for, now running — or, when the schedule says so and none is
    asked for, a new scheduled one. None: nothing to run."""
    queued = await session.scalar(
        sa.select(_runs.c.id)
        .where(_runs.c.status == "queued")
        .order_by(_runs.c.requested_at)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    now = utcnow()
    if queued is not None:
        await session.execute(
            sa.update(_runs).where(_runs.c.id == queued).values(status="running", started_at=now)
        )
        return queued
    if not scheduled:
        return None
    run_id = uuid.uuid4()
    await session.execute(
        sa.insert(_runs).values(
            id=run_id,
            status="running",
            requested_by="system:schedule",
            requested_at=now,
            started_at=now,
        )
    )
    return run_id


async def finish_run(
    *, session: AsyncSession, run_id: uuid.UUID, report: dict[str, Any] | None, error: str | None
) -> None:
    await session.execute(
        sa.update(_runs)
        .where(_runs.c.id == run_id)
        .values(
            status="done" if error is None else "failed",
            finished_at=utcnow(),
            report=report,
            error=error[:1000] if error else None,
        )
    )


async def latest_runs(*, session: AsyncSession) -> tuple[dict[str, Any] | None, datetime | None]:
    """The last finished run's row (its report), and when a run now waiting was asked for."""
    done = (
        (
            await session.execute(
                sa.select(_runs)
                .where(_runs.c.status.in_(("done", "failed")))
                .order_by(_runs.c.finished_at.desc())
                .limit(1)
            )
        )
        .mappings()
        .first()
    )
    waiting = await session.scalar(
        sa.select(sa.func.min(_runs.c.requested_at)).where(
            _runs.c.status.in_(("queued", "running"))
        )
    )
    return (dict(done) if done is not None else None), waiting
