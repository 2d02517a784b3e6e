"""The what-if worker: runs queued jobs one after another (shared/jobs.py).

It leases a queued job, reads the period's assessments in keyset order a chunk at a time,
has each chunk assessed again in worker processes (or a thread) while the next is read,
and commits the chunk's changed cases together with the progress — so a poller sees the
percentage move, and a worker that dies mid-job leaves a lease that expires and another
run starts the job again from the beginning.
"""

import asyncio
import multiprocessing
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import date, timedelta
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.guarantee.facts import service as facts
from services.guarantee.facts.resolution import Trial
from services.guarantee.models import WhatIfStatus
from services.guarantee.policies import service as policies
from services.guarantee.whatif import repository as repo
from services.guarantee.whatif.comparison import Comparison, Stored, replay_in_worker
from shared.clock import utcnow
from shared.jobs import Worker

log = structlog.get_logger("guarantee.whatif")


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
            list_id = job.reference_list_id
        log.info("whatif.started", job_id=str(job_id))
        try:
            summary = await self._replay(job_id, policy_id, *period, list_id=list_id)
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

    async def _trial(self, list_id: uuid.UUID | None, rows: list[Stored]) -> Trial | None:
        """For a list what-if: the list of its kind each case would go by, were it in force."""
        if list_id is None:
            return None
        wanted = {(row.request["enterprise"]["uscc"], row.as_of) for row in rows}
        async with self._sessionmaker() as session, session.begin():
            return await facts.trial(session=session, list_id=list_id, wanted=wanted)

    async def _replay(
        self,
        job_id: uuid.UUID,
        policy_id: uuid.UUID,
        period_from: date,
        period_to: date,
        *,
        list_id: uuid.UUID | None = None,
    ) -> dict[str, Any]:
        async with self._sessionmaker() as session, session.begin():
            version = await policies.get_version(session=session, policy_id=policy_id)
            policy = (version.document, version.content_hash)
            total = await repo.count_assessments(
                session=session, period_from=period_from, period_to=period_to
            )
            await repo.update_job(session=session, job_id=job_id, total=total)
        period = (period_from, period_to)
        comparison = Comparison()
        rows = await self._page(period, None)
        while rows:
            started = time.perf_counter()
            # Assessed elsewhere (worker processes, or a thread) while the next chunk is
            # read; no transaction stays open meanwhile.
            work = self._assess(policy, rows, job_id, await self._trial(list_id, rows))
            following = await self._page(period, (rows[-1].as_of, rows[-1].id))
            read = time.perf_counter()
            done = await asyncio.gather(*work)
            assessed = time.perf_counter()
            for part, _ in done:
                comparison.merge(part)
            changes = [change for _, part_changes in done for change in part_changes]
            await self._record_chunk(job_id, changes, comparison.total, total)
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

    def _assess(
        self,
        policy: tuple[dict[str, Any], str],
        rows: list[Stored],
        job_id: uuid.UUID,
        trial: Trial | None,
    ) -> list[asyncio.Future[tuple[Comparison, list[dict[str, Any]]]]]:
        """The chunk cut in one part per worker process, each assessed there."""
        loop = asyncio.get_running_loop()
        executor = self._executor()
        document, policy_hash = policy
        size = -(-len(rows) // max(self._processes, 1))
        return [
            loop.run_in_executor(
                executor,
                replay_in_worker,
                document,
                policy_hash,
                rows[i : i + size],
                job_id,
                trial,
            )
            for i in range(0, len(rows), size)
        ]

    async def _record_chunk(
        self, job_id: uuid.UUID, changes: list[dict[str, Any]], processed: int, total: int
    ) -> None:
        """The chunk's changed cases and the progress, together; the lease renewed."""
        async with self._sessionmaker() as session, session.begin():
            await repo.insert_changes(session=session, rows=changes)
            await repo.update_job(
                session=session,
                job_id=job_id,
                processed=processed,
                total=max(total, processed),
                lease_until=utcnow() + self._lease,
            )
