"""What-if: replay the stored assessments of a period under another policy version.

A bureau user asks for a replay (``request_whatif``: a queued job row, audited, in the
request's transaction); :class:`WhatIfRunner` leases queued jobs, reads the period's
assessments in keyset order a chunk at a time, assesses each stored input again as of its
own date under the job's version, and commits the chunk's changed cases together with the
progress — so a poller sees the percentage move, and a worker that dies mid-job leaves a
lease that expires and another run starts the job again from the beginning.

The comparison is exact: counts of each decision, the approval rate, guaranteed volume and
fee subsidy (sums in fen), and for each changed case the rules and factors that differ.
"""

import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from services.guarantee.facts import service as facts
from services.guarantee.models import AuditEntry, PolicyVersion, WhatIfJob, WhatIfStatus
from services.guarantee.policies import service as policies
from services.guarantee.policies.exceptions import NoPolicyInForce
from services.guarantee.whatif import repository as repo
from services.guarantee.whatif.exceptions import WhatIfNotFound, WhatIfPeriodInvalid
from services.guarantee.whatif.schemas import (
    WhatIfChangePage,
    WhatIfChangePublic,
    WhatIfCreate,
    WhatIfJobPublic,
)
from shared import audit
from shared.auth import Principal
from shared.errors import FieldError

STATUS_ZH = {
    WhatIfStatus.QUEUED: "排队中",
    WhatIfStatus.RUNNING: "运行中",
    WhatIfStatus.SUCCEEDED: "已完成",
    WhatIfStatus.FAILED: "失败",
}
MAX_PERIOD_DAYS = 3660


def public(job: WhatIfJob) -> WhatIfJobPublic:
    done = job.status == WhatIfStatus.SUCCEEDED
    percent = 100 if done else (job.processed * 100 // job.total if job.total else 0)
    return WhatIfJobPublic(
        id=job.id,
        policy_version_id=job.policy_version_id,
        reference_list_id=job.reference_list_id,
        period_from=job.period_from,
        period_to=job.period_to,
        status=WhatIfStatus(job.status),
        status_zh=STATUS_ZH[WhatIfStatus(job.status)],
        total=job.total,
        processed=job.processed,
        percent=percent,
        summary=job.summary,
        error=job.error,
        requested_by=job.requested_by,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )


def _check_period(payload: WhatIfCreate) -> None:
    if payload.period_to < payload.period_from or (
        (payload.period_to - payload.period_from).days > MAX_PERIOD_DAYS
    ):
        raise WhatIfPeriodInvalid(
            "模拟期间无效",
            errors=[
                FieldError(
                    field="period_to",
                    message=f"结束日期须不早于开始日期，且期间不超过 {MAX_PERIOD_DAYS} 天",
                    message_en=f"period_to must not precede period_from; at most "
                    f"{MAX_PERIOD_DAYS} days",
                    code="period_invalid",
                )
            ],
        )


async def request_whatif(
    *, session: AsyncSession, principal: Principal, policy_id: uuid.UUID, payload: WhatIfCreate
) -> WhatIfJobPublic:
    _check_period(payload)
    version = await policies.get_version(session=session, policy_id=policy_id)
    return await _queue(session, principal, version, payload, None)


async def request_list_whatif(
    *,
    session: AsyncSession,
    principal: Principal,
    list_id: uuid.UUID,
    payload: WhatIfCreate,
    today: date,
) -> WhatIfJobPublic:
    """The list version tried as if in force over the period (replacing its series), each
    case judged under the policy in force today, with and without it."""
    _check_period(payload)
    tried = await facts.tried_list(session=session, list_id=list_id)
    version = await policies.in_force(session=session, on=today)
    if version is None:
        raise NoPolicyInForce(f"{today} 没有生效的担保政策，无法模拟名单的影响")
    return await _queue(session, principal, version, payload, tried.id)


async def _queue(
    session: AsyncSession,
    principal: Principal,
    version: PolicyVersion,
    payload: WhatIfCreate,
    list_id: uuid.UUID | None,
) -> WhatIfJobPublic:
    job = WhatIfJob(
        policy_version_id=version.id,
        policy_hash=version.content_hash,
        reference_list_id=list_id,
        period_from=payload.period_from,
        period_to=payload.period_to,
        status=WhatIfStatus.QUEUED,
        requested_by=principal.actor,
    )
    repo.add_job(session, job)
    await session.flush()
    audit.append(
        session,
        AuditEntry,
        actor=principal.actor,
        action="whatif.requested",
        entity_type="whatif_job",
        entity_id=str(job.id),
        detail={
            "policy_version_id": str(version.id),
            "version": version.version,
            "reference_list_id": str(list_id) if list_id else None,
            "period_from": payload.period_from.isoformat(),
            "period_to": payload.period_to.isoformat(),
        },
        entity=job,
        created=True,
    )
    return public(job)


async def get_job(*, session: AsyncSession, job_id: uuid.UUID) -> WhatIfJobPublic:
    job = await repo.get_job(session=session, job_id=job_id)
    if job is None:
        raise WhatIfNotFound(f"没有编号为 {job_id} 的模拟任务")
    return public(job)


async def list_changes(
    *, session: AsyncSession, job_id: uuid.UUID, offset: int, limit: int
) -> WhatIfChangePage:
    if await repo.get_job(session=session, job_id=job_id) is None:
        raise WhatIfNotFound(f"没有编号为 {job_id} 的模拟任务")
    changes, total = await repo.list_changes(
        session=session, job_id=job_id, offset=offset, limit=limit
    )
    firms = await repo.firms_of(session=session, assessment_ids=[c.assessment_id for c in changes])
    items = []
    for change in changes:
        uscc, name = firms.get(change.assessment_id, (None, None))
        item = WhatIfChangePublic.model_validate(change, from_attributes=True)
        items.append(item.model_copy(update={"enterprise_uscc": uscc, "enterprise_name": name}))
    return WhatIfChangePage(
        items=items,
        total=total,
        offset=offset,
        limit=limit,
    )
