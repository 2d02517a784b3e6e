"""Every query the guarantee service makes."""

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.guarantee.models import (
    Assessment,
    AuditEntry,
    BatchCompensation,
    Claim,
    Guarantee,
    PolicyStatus,
    PolicyVersion,
    Recovery,
    WhatIfChange,
    WhatIfJob,
    WhatIfStatus,
)
from shared.audit import AUDIT_LOG_CONTENT, AuditChain, audit_row
from shared.clock import utcnow
from shared.jobs import queue_work

# The what-if worker's queue (shared/jobs.py wakes it when a job is committed).
WHATIF_QUEUE = "guarantee.whatif"

_assessments: sa.Table = Assessment.__table__  # type: ignore[attr-defined]
_changes: sa.Table = WhatIfChange.__table__  # type: ignore[attr-defined]
_jobs: sa.Table = WhatIfJob.__table__  # type: ignore[attr-defined]


async def policy_in_force(*, session: AsyncSession, on: date) -> PolicyVersion | None:
    result = await session.execute(
        select(PolicyVersion)
        .where(
            PolicyVersion.status == PolicyStatus.APPROVED,
            col(PolicyVersion.effective_from) <= on,
        )
        .order_by(col(PolicyVersion.effective_from).desc(), col(PolicyVersion.decided_at).desc())
        .limit(1)
    )
    return result.scalar_one_or_none()


async def approved_policies(*, session: AsyncSession) -> Sequence[PolicyVersion]:
    """Approved versions in the order they take over from one another."""
    result = await session.execute(
        select(PolicyVersion)
        .where(PolicyVersion.status == PolicyStatus.APPROVED)
        .order_by(col(PolicyVersion.effective_from), col(PolicyVersion.decided_at))
    )
    return result.scalars().all()


async def get_policy(
    *, session: AsyncSession, policy_id: uuid.UUID, for_update: bool = False
) -> PolicyVersion | None:
    return await session.get(PolicyVersion, policy_id, with_for_update=for_update or None)


async def next_policy_version(*, session: AsyncSession) -> int:
    result = await session.execute(sa.select(sa.func.max(PolicyVersion.version)))
    return (result.scalar() or 0) + 1


async def list_policies(
    *, session: AsyncSession, status: str | None, offset: int, limit: int
) -> tuple[Sequence[PolicyVersion], int]:
    where = [PolicyVersion.status == status] if status else []
    total = await session.scalar(
        sa.select(sa.func.count()).select_from(PolicyVersion).where(*where)
    )
    result = await session.execute(
        select(PolicyVersion)
        .where(*where)
        .order_by(col(PolicyVersion.version).desc())
        .offset(offset)
        .limit(limit)
    )
    return result.scalars().all(), total or 0


def add(session: AsyncSession, row: Any) -> None:
    session.add(row)


async def audit(
    *,
    session: AsyncSession,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str,
    detail: dict[str, Any],
    entity: Any = None,
    created: bool = False,
) -> None:
    """Append to the audit log (shared/audit.py: ``audit_row``)."""
    session.add(
        audit_row(
            AuditEntry,
            actor=actor,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            detail=detail,
            entity=entity,
            created=created,
        )
    )


async def list_audit(
    *, session: AsyncSession, entity_id: str | None, offset: int, limit: int
) -> tuple[Sequence[AuditEntry], int]:
    where = [AuditEntry.entity_id == entity_id] if entity_id else []
    total = await session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(*where))
    result = await session.execute(
        select(AuditEntry)
        .where(*where)
        .order_by(col(AuditEntry.id).desc())
        .offset(offset)
        .limit(limit)
    )
    return result.scalars().all(), total or 0


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


# --- what-if jobs ---------------------------------------------------------------------------


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


# --- guarantees -----------------------------------------------------------------------------


async def guarantee_for_loan(*, session: AsyncSession, loan_id: uuid.UUID) -> Guarantee | None:
    result = await session.execute(select(Guarantee).where(Guarantee.loan_id == loan_id))
    return result.scalar_one_or_none()


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


async def assessment_for_application(
    *, session: AsyncSession, application_id: uuid.UUID
) -> Assessment | None:
    result = await session.execute(
        select(Assessment).where(Assessment.application_id == application_id)
    )
    return result.scalar_one_or_none()


# --- claims -----------------------------------------------------------------------------------

_compensation: sa.Table = BatchCompensation.__table__  # type: ignore[attr-defined]
_guarantees: sa.Table = Guarantee.__table__  # type: ignore[attr-defined]


async def lock_batch_compensation(
    *, session: AsyncSession, batch_id: uuid.UUID
) -> BatchCompensation:
    """The batch's compensation account, created if new, locked until the transaction ends:
    claims of one batch are decided one after another."""
    dialect = session.get_bind().dialect.name
    insert = sqlite_insert if dialect == "sqlite" else pg_insert
    await session.execute(
        insert(_compensation)
        .values(batch_id=batch_id, paid_fen=0, fund_recovered_fen=0, updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["batch_id"])
    )
    account = await session.get(
        BatchCompensation, batch_id, with_for_update=True, populate_existing=True
    )
    assert account is not None
    return account


async def guaranteed_volume(*, session: AsyncSession, batch_id: uuid.UUID) -> int:
    """Principal of every guarantee issued in the batch, in fen."""
    total = await session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(_guarantees.c.principal_fen), 0)).where(
            _guarantees.c.batch_id == batch_id
        )
    )
    return int(total or 0)


async def claim_for_loan(
    *, session: AsyncSession, loan_id: uuid.UUID, for_update: bool = False
) -> Claim | None:
    query = select(Claim).where(Claim.loan_id == loan_id)
    if for_update:
        query = query.with_for_update()
    result = await session.execute(query.execution_options(populate_existing=True))
    return result.scalar_one_or_none()


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


# --- the tamper-evident audit chain (shared/audit.py) ----------------------------------------


def audit_chains(key: bytes) -> list[AuditChain]:
    table: sa.Table = AuditEntry.__table__  # type: ignore[attr-defined]
    return [AuditChain(table, order_by="id", content=AUDIT_LOG_CONTENT, key=key)]
