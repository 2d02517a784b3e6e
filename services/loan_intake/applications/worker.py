"""Hands submitted applications to the guarantee service, durably.

Each submission writes an outbox row in its own transaction. This worker leases due rows
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so replicas never take the same row; SQLite has
one writer), sends them to the guarantee service in one batch call, and records every
decision together with the row's completion in one transaction. If the guarantee service
is down, rows are rescheduled with exponential backoff and jitter — indefinitely: an
application is never dropped. A crash mid-flight leaves the lease to expire and the row is
taken again; the guarantee service answers a repeated application with its first
assessment, and an application already out of ``assessing`` is not changed, so nothing is
assessed or recorded twice.
"""

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

import structlog
from asgi_correlation_id import correlation_id
from prometheus_client import Counter, Gauge
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.loan_intake.applications import outbox_repository as outbox_repo
from services.loan_intake.applications import repository as repo
from services.loan_intake.applications.updates import record_assessments
from services.loan_intake.clients import GuaranteeClient, GuaranteeRefused, GuaranteeUnavailable
from services.loan_intake.config import Settings
from services.loan_intake.models import OutboxMessage
from shared.backoff import backoff_seconds
from shared.clock import utcnow
from shared.contracts.assessment import (
    AssessmentBatchItem,
    AssessmentBatchOutcome,
    AssessmentRequest,
)
from shared.faults import crash_point
from shared.jobs import Worker

log = structlog.get_logger("loan_intake.outbox")

HANDOFFS = Counter(
    "intake_assessment_handoffs_total", "Applications handed to the guarantee service", ["outcome"]
)
IDEMPOTENCY_SWEEP_SECONDS = 600

BACKLOG = Gauge("intake_assessment_backlog", "Applications waiting for their assessment")


class HandoffWorker(Worker):
    """Hands due applications to the guarantee service, a batch at a time."""

    queue = repo.HANDOFF_QUEUE

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        client: GuaranteeClient,
        settings: Settings,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._client = client
        self._settings = settings
        self.interval = settings.outbox_poll_seconds

    async def step(self) -> int:
        """Send one batch of lapsed applications, then of due ones; how many were taken.
        Lapses first: a firm's room freed before its next application is assessed is free."""
        lapsed = await self._lapses()
        return lapsed + await self._assessments()

    async def _lease(self, session: AsyncSession, topic: str) -> Sequence[OutboxMessage]:
        """A batch of the topic's due messages, leased to this worker."""
        now = utcnow()
        return await outbox_repo.claim_due_outbox(
            session=session,
            topic=topic,
            now=now,
            lease_until=now + timedelta(seconds=self._settings.outbox_lease_seconds),
            limit=self._settings.outbox_batch_size,
        )

    async def _lapses(self) -> int:
        """Applications that will never be lent, told to the guarantee service in one call."""
        async with self._sessionmaker() as session, session.begin():
            messages = await self._lease(session, repo.LAPSE_TOPIC)
        if not messages:
            return 0
        try:
            await self._client.report_lapses([m.aggregate_id for m in messages])
        except GuaranteeUnavailable as exc:
            await self._reschedule(messages, str(exc))
            return len(messages)
        except GuaranteeRefused as exc:
            await self._fail(messages, str(exc))
            return len(messages)
        async with self._sessionmaker() as session, session.begin():
            done = [m.id for m in messages if m.id is not None]
            await outbox_repo.complete_outbox(session=session, ids=done, now=utcnow())
        return len(messages)

    async def _assessments(self) -> int:
        """Send one batch of due applications; return how many were taken."""
        async with self._sessionmaker() as session, session.begin():
            messages = await self._lease(session, repo.ASSESSMENT_TOPIC)
            backlog = await outbox_repo.outbox_backlog(session=session)
        BACKLOG.set(backlog)
        if not messages:
            return 0
        items = [
            AssessmentBatchItem(
                request_id=m.request_id, request=AssessmentRequest.model_validate(m.payload)
            )
            for m in messages
        ]
        token = correlation_id.set(messages[0].request_id if len(messages) == 1 else None)
        try:
            outcomes = await self._client.assess_batch(items)
        except GuaranteeUnavailable as exc:
            await self._reschedule(messages, str(exc))
            HANDOFFS.labels("retry").inc(len(messages))
            return len(messages)
        except GuaranteeRefused as exc:
            await self._fail(messages, str(exc))
            HANDOFFS.labels("refused").inc(len(messages))
            return len(messages)
        finally:
            correlation_id.reset(token)
        crash_point("intake.handoff.answered")
        async with self._sessionmaker() as session, session.begin():
            await self._record(session, messages, {o.application_id: o for o in outcomes})
        return len(messages)

    async def _record(
        self,
        session: AsyncSession,
        messages: Sequence[OutboxMessage],
        outcomes: dict[uuid.UUID, AssessmentBatchOutcome],
    ) -> None:
        """Each decision recorded with its row's completion; the others failed or retried."""
        decided = [
            (m, outcomes[m.aggregate_id].result)
            for m in messages
            if m.aggregate_id in outcomes and outcomes[m.aggregate_id].result is not None
        ]
        changed = await record_assessments(
            session=session, results=[result for _, result in decided if result is not None]
        )
        for message, result in decided:
            assert result is not None
            log.info(
                "application.assessed",
                request_id=message.request_id,
                application_id=str(message.aggregate_id),
                decision=result.decision.value,
                score=result.score,
                recorded=message.aggregate_id in changed,
                attempts=message.attempts,
            )
        HANDOFFS.labels("assessed").inc(len(decided))
        done = [m.id for m, _ in decided if m.id is not None]
        if done:
            await outbox_repo.complete_outbox(session=session, ids=done, now=utcnow())
        for message in messages:
            outcome = outcomes.get(message.aggregate_id)
            if outcome is None or outcome.result is None:
                await self._not_assessed(session, message, outcome)

    async def _not_assessed(
        self,
        session: AsyncSession,
        message: OutboxMessage,
        outcome: AssessmentBatchOutcome | None,
    ) -> None:
        """Refused (4xx: retrying will not help, an operator must look) or tried again."""
        assert message.id is not None
        problem = outcome.problem if outcome is not None else None
        error = problem.model_dump_json() if problem else "no outcome returned"
        if problem is not None and 400 <= problem.status < 500:
            await outbox_repo.fail_outbox(
                session=session, message_id=message.id, now=utcnow(), error=error
            )
            log.error(
                "application.assessment_refused",
                request_id=message.request_id,
                application_id=str(message.aggregate_id),
                problem=error,
            )
            HANDOFFS.labels("refused").inc()
            return
        await outbox_repo.reschedule_outbox(
            session=session,
            message_id=message.id,
            next_attempt_at=self._next_attempt(message.attempts),
            error=error,
        )
        HANDOFFS.labels("retry").inc()

    def _next_attempt(self, attempts: int) -> datetime:
        delay = backoff_seconds(
            attempts,
            base=self._settings.outbox_backoff_base_seconds,
            cap=self._settings.outbox_backoff_cap_seconds,
        )
        return utcnow() + timedelta(seconds=delay)

    async def _reschedule(self, messages: Sequence[OutboxMessage], error: str) -> None:
        async with self._sessionmaker() as session, session.begin():
            for message in messages:
                assert message.id is not None
                await outbox_repo.reschedule_outbox(
                    session=session,
                    message_id=message.id,
                    next_attempt_at=self._next_attempt(message.attempts),
                    error=error,
                )
        log.warning(
            "outbox.guarantee_unavailable",
            count=len(messages),
            attempts=max(m.attempts for m in messages),
            error=error[:300],
        )

    async def _fail(self, messages: Sequence[OutboxMessage], error: str) -> None:
        async with self._sessionmaker() as session, session.begin():
            for message in messages:
                assert message.id is not None
                await outbox_repo.fail_outbox(
                    session=session, message_id=message.id, now=utcnow(), error=error
                )
        log.error("outbox.guarantee_refused_batch", count=len(messages), error=error[:500])


class IdempotencySweeper(Worker):
    """Forgets Idempotency-Keys older than their time to live."""

    queue = "loan_intake.idempotency_sweep"
    interval = IDEMPOTENCY_SWEEP_SECONDS

    def __init__(
        self, *, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        self._sessionmaker = sessionmaker
        self._settings = settings

    async def step(self) -> int:
        # One pass deletes everything expired: nothing is left for a second one.
        await self.sweep()
        return 0

    async def sweep(self) -> None:
        """Forget Idempotency-Keys older than their time to live."""
        async with self._sessionmaker() as session, session.begin():
            removed = await repo.delete_idempotency_records_before(
                session=session,
                before=utcnow() - timedelta(hours=self._settings.idempotency_ttl_hours),
            )
        if removed:
            log.info("idempotency.expired", removed=removed)
