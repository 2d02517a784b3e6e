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

import asyncio
import multiprocessing
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.guarantee import repository as repo
from services.guarantee.exceptions import PolicyNotFound, WhatIfNotFound, WhatIfPeriodInvalid
from services.guarantee.models import (
    WhatIfChangePage,
    WhatIfChangePublic,
    WhatIfCreate,
    WhatIfJob,
    WhatIfJobPublic,
    WhatIfStatus,
)
from services.guarantee.policy import (
    CompiledPolicy,
    Evaluation,
    PolicyDocument,
    compile_policy,
    evaluate,
)
from shared.auth import Principal
from shared.clock import utcnow
from shared.contracts.assessment import AssessmentRequest, Decision
from shared.errors import FieldError
from shared.jobs import Worker
from shared.money import from_fen, to_fen

log = structlog.get_logger("guarantee.whatif")

STATUS_ZH = {
    WhatIfStatus.QUEUED: "排队中",
    WhatIfStatus.RUNNING: "运行中",
    WhatIfStatus.SUCCEEDED: "已完成",
    WhatIfStatus.FAILED: "失败",
}
MAX_PERIOD_DAYS = 3660


# --- requests -------------------------------------------------------------------------------


def public(job: WhatIfJob) -> WhatIfJobPublic:
    done = job.status == WhatIfStatus.SUCCEEDED
    percent = 100 if done else (job.processed * 100 // job.total if job.total else 0)
    return WhatIfJobPublic(
        id=job.id,
        policy_version_id=job.policy_version_id,
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


async def request_whatif(
    *, session: AsyncSession, principal: Principal, policy_id: uuid.UUID, payload: WhatIfCreate
) -> WhatIfJobPublic:
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
    version = await repo.get_policy(session=session, policy_id=policy_id)
    if version is None:
        raise PolicyNotFound(f"没有编号为 {policy_id} 的政策版本")
    job = WhatIfJob(
        policy_version_id=version.id,
        policy_hash=version.content_hash,
        period_from=payload.period_from,
        period_to=payload.period_to,
        status=WhatIfStatus.QUEUED,
        requested_by=principal.actor,
    )
    repo.add_job(session, job)
    await session.flush()
    await repo.audit(
        session=session,
        actor=principal.actor,
        action="whatif.requested",
        entity_type="whatif_job",
        entity_id=str(job.id),
        detail={
            "policy_version_id": str(version.id),
            "version": version.version,
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
    return WhatIfChangePage(
        items=[WhatIfChangePublic.model_validate(c, from_attributes=True) for c in changes],
        total=total,
        offset=offset,
        limit=limit,
    )


# --- comparison -----------------------------------------------------------------------------


def _fen(terms: dict[str, Any] | None, name: str) -> int:
    if not terms or terms.get(name) is None:
        return 0
    return to_fen(Decimal(terms[name]))


@dataclass
class Side:
    """One side (before or after) of the comparison."""

    decisions: Counter[str] = field(default_factory=Counter)
    guaranteed_fen: int = 0
    fee_subsidy_fen: int = 0

    def add(self, decision: str, terms: dict[str, Any] | None) -> None:
        self.decisions[decision] += 1
        if decision == Decision.ELIGIBLE:
            self.guaranteed_fen += _fen(terms, "guaranteed_amount")
            self.fee_subsidy_fen += _fen(terms, "guarantee_fee_subsidy")

    def report(self, total: int) -> dict[str, Any]:
        eligible = self.decisions[Decision.ELIGIBLE]
        rate = (
            str((Decimal(eligible) / total).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))
            if total
            else None
        )
        return {
            **{d.value: self.decisions[d.value] for d in Decision},
            "approval_rate": rate,
            "guaranteed_volume": str(from_fen(self.guaranteed_fen)),
            "fee_subsidy": str(from_fen(self.fee_subsidy_fen)),
        }


@dataclass
class Comparison:
    total: int = 0
    changed: int = 0
    before: Side = field(default_factory=Side)
    after: Side = field(default_factory=Side)
    transitions: Counter[str] = field(default_factory=Counter)
    deciding_rules: Counter[str] = field(default_factory=Counter)

    def merge(self, other: "Comparison") -> None:
        self.total += other.total
        self.changed += other.changed
        for mine, theirs in ((self.before, other.before), (self.after, other.after)):
            mine.decisions.update(theirs.decisions)
            mine.guaranteed_fen += theirs.guaranteed_fen
            mine.fee_subsidy_fen += theirs.fee_subsidy_fen
        self.transitions.update(other.transitions)
        self.deciding_rules.update(other.deciding_rules)

    def summary(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "total": self.total,
            "changed": self.changed,
            "decisions_changed": sum(self.transitions.values()),
            "transitions": dict(sorted(self.transitions.items())),
            "before": self.before.report(self.total),
            "after": self.after.report(self.total),
            "rules_making_the_difference": dict(self.deciding_rules.most_common()),
        }
        if self.total == 0:
            result["message_zh"] = "该期间没有评估记录，无可比较的申请"
            result["message_en"] = "no assessments in this period: nothing to compare"
        return result


_TERMS_COMPARED = ("guaranteed_amount", "coverage_ratio", "guarantee_fee", "guarantee_fee_subsidy")


def differences(row: Any, after: Evaluation) -> dict[str, Any] | None:
    """How the stored assessment ``row`` and ``after`` differ; None when they agree."""
    before_rules = {r["code"]: r.get("passed") for r in row.rules or []}
    after_rules = {r["code"]: r["passed"] for r in after.trace["rules"]}
    # A rule counts when it fails on one side only: a rule added or removed that passes
    # (absent ↔ passed) changes nothing for the application.
    rules = [
        {"code": code, "before": before_rules.get(code), "after": after_rules.get(code)}
        for code in [*before_rules, *(c for c in after_rules if c not in before_rules)]
        if (before_rules.get(code) is False) != (after_rules.get(code) is False)
    ]
    before_points = {f["code"]: str(f["points"]) for f in row.factors or []}
    after_points = {f["code"]: f["points"] for f in after.trace["factors"]}
    factors = [
        {"code": code, "before": before_points.get(code, "0"), "after": after_points.get(code, "0")}
        for code in [*before_points, *(c for c in after_points if c not in before_points)]
        if Decimal(before_points.get(code, "0")) != Decimal(after_points.get(code, "0"))
    ]
    after_terms = after.terms.model_dump(mode="json") if after.terms else None
    terms = {
        name: [(row.terms or {}).get(name), (after_terms or {}).get(name)]
        for name in _TERMS_COMPARED
        if (row.terms or {}).get(name) != (after_terms or {}).get(name)
    }
    if row.decision == after.decision.value and row.score == after.score and not terms:
        return None
    return {"rules": rules, "factors": factors, "terms": terms}


class Stored(NamedTuple):
    """One stored assessment as a replay reads it (plain data: it may cross processes)."""

    id: uuid.UUID
    application_id: uuid.UUID
    as_of: date
    request: dict[str, Any]
    decision: str
    score: int
    terms: dict[str, Any] | None
    rules: list[dict[str, Any]] | None
    factors: list[dict[str, Any]] | None


def replay_chunk(
    policy: CompiledPolicy, rows: Sequence[Stored], job_id: uuid.UUID
) -> tuple[Comparison, list[dict[str, Any]]]:
    """Assess each row again: the chunk's comparison and the rows of its changed cases."""
    comparison = Comparison()
    changes = []
    for row in rows:
        after = evaluate(policy, AssessmentRequest.model_validate(row.request))
        comparison.total += 1
        comparison.before.add(row.decision, row.terms)
        after_terms = after.terms.model_dump(mode="json") if after.terms else None
        comparison.after.add(after.decision.value, after_terms)
        diff = differences(row, after)
        if diff is None:
            continue
        comparison.changed += 1
        if row.decision != after.decision.value:
            comparison.transitions[f"{row.decision}→{after.decision.value}"] += 1
            for rule in diff["rules"]:
                comparison.deciding_rules[rule["code"]] += 1
        changes.append(
            {
                "job_id": job_id,
                "assessment_id": row.id,
                "application_id": row.application_id,
                "as_of": row.as_of,
                "decision_before": row.decision,
                "decision_after": after.decision.value,
                "score_before": row.score,
                "score_after": after.score,
                "differences": diff,
            }
        )
    return comparison, changes


# In a worker process: compiled policies by content hash, as in the service itself.
_worker_policies: dict[str, CompiledPolicy] = {}


def replay_in_worker(
    document: dict[str, Any], policy_hash: str, rows: Sequence[Stored], job_id: uuid.UUID
) -> tuple[Comparison, list[dict[str, Any]]]:
    policy = _worker_policies.get(policy_hash)
    if policy is None:
        policy = compile_policy(PolicyDocument.model_validate(document))
        _worker_policies[policy_hash] = policy
    return replay_chunk(policy, rows, job_id)


# --- the worker -----------------------------------------------------------------------------


class WhatIfRunner(Worker):
    """Runs queued what-if jobs one after another, as a background worker (shared/jobs.py)."""

    queue = repo.WHATIF_QUEUE

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        chunk_size: int = 1000,
        processes: int = 0,
        lease_seconds: float = 60.0,
        poll_seconds: float = 1.0,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._chunk_size = chunk_size
        self._processes = processes
        self._pool: ProcessPoolExecutor | None = None
        self._lease = timedelta(seconds=lease_seconds)
        self.interval = poll_seconds

    async def step(self) -> int:
        """One job, run to its end (0: none was queued)."""
        return int(await self.run_once())

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def _executor(self) -> ProcessPoolExecutor | None:
        """Worker processes for the CPU work (other cores), started on first use; none: a
        thread (one core, the event loop still answers between chunks)."""
        if self._processes and self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self._processes, mp_context=multiprocessing.get_context("spawn")
            )
        return self._pool

    async def run_once(self) -> bool:
        """Run one claimable job to its end; False when there was none."""
        async with self._sessionmaker() as session, session.begin():
            now = utcnow()
            job = await repo.claim_job(session=session, now=now, lease_until=now + self._lease)
            if job is None:
                return False
            job_id, policy_id = job.id, job.policy_version_id
            period = (job.period_from, job.period_to)
        log.info("whatif.started", job_id=str(job_id))
        try:
            summary = await self._replay(job_id, policy_id, *period)
        except Exception as error:
            log.exception("whatif.failed", job_id=str(job_id))
            async with self._sessionmaker() as session, session.begin():
                await repo.update_job(
                    session=session,
                    job_id=job_id,
                    status=WhatIfStatus.FAILED,
                    error=f"{type(error).__name__}: {error}"[:2000],
                    finished_at=utcnow(),
                    lease_until=None,
                )
            return True
        log.info(
            "whatif.succeeded",
            job_id=str(job_id),
            **{k: summary[k] for k in ("total", "changed", "decisions_changed")},
        )
        return True

    async def _page(
        self, period: tuple[date, date], after: tuple[date, uuid.UUID] | None
    ) -> list[Stored]:
        async with self._sessionmaker() as session, session.begin():
            rows = await repo.assessments_page(
                session=session,
                period_from=period[0],
                period_to=period[1],
                after=after,
                limit=self._chunk_size,
            )
        return [Stored(*row) for row in rows]

    async def _replay(
        self, job_id: uuid.UUID, policy_id: uuid.UUID, period_from: date, period_to: date
    ) -> dict[str, Any]:
        async with self._sessionmaker() as session, session.begin():
            version = await repo.get_policy(session=session, policy_id=policy_id)
            assert version is not None
            document, policy_hash = version.document, version.content_hash
            total = await repo.count_assessments(
                session=session, period_from=period_from, period_to=period_to
            )
            await repo.update_job(session=session, job_id=job_id, total=total)
        period = (period_from, period_to)
        loop = asyncio.get_running_loop()
        executor = self._executor()
        comparison = Comparison()
        rows = await self._page(period, None)
        while rows:
            # Assess this chunk elsewhere (a worker process, or a thread) while the next one
            # is read; no transaction stays open meanwhile.
            started = time.perf_counter()
            parts = max(self._processes, 1)
            size = -(-len(rows) // parts)
            work = [
                loop.run_in_executor(
                    executor, replay_in_worker, document, policy_hash, rows[i : i + size], job_id
                )
                for i in range(0, len(rows), size)
            ]
            following = await self._page(period, (rows[-1].as_of, rows[-1].id))
            read = time.perf_counter()
            done = await asyncio.gather(*work)
            assessed = time.perf_counter()
            changes = [change for _, part_changes in done for change in part_changes]
            for part, _ in done:
                comparison.merge(part)
            async with self._sessionmaker() as session, session.begin():
                await repo.insert_changes(session=session, rows=changes)
                await repo.update_job(
                    session=session,
                    job_id=job_id,
                    processed=comparison.total,
                    total=max(total, comparison.total),
                    lease_until=utcnow() + self._lease,
                )
            log.debug(
                "whatif.chunk",
                job_id=str(job_id),
                processed=comparison.total,
                read_ms=round((read - started) * 1000),
                waited_ms=round((assessed - read) * 1000),
                written_ms=round((time.perf_counter() - assessed) * 1000),
            )
            rows = following
        summary = comparison.summary()
        async with self._sessionmaker() as session, session.begin():
            await repo.update_job(
                session=session,
                job_id=job_id,
                status=WhatIfStatus.SUCCEEDED,
                summary=summary,
                total=comparison.total,
                processed=comparison.total,
                finished_at=utcnow(),
                lease_until=None,
            )
        return summary
