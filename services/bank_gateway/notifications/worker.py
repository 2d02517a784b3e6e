"""The outbox's worker: sends what the gateway wrote to tell banks, loan_intake and the
guarantee service (see :mod:`service` for the three kinds, :mod:`outcomes` for retries).

Rows are leased with ``FOR UPDATE SKIP LOCKED`` and a lease on PostgreSQL, so several
workers never send the same one, and a row whose worker died is taken again when its lease
runs out. Some calls are answered with something the gateway must record — the fund's
decision on a claim, the split of a recovery: those answers go to the handlers ``main.py``
gives (``answers``), in the transaction that marks the row delivered, so this package
never reaches into the ledger.
"""

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from datetime import datetime, timedelta
from typing import Any

import httpx
from prometheus_client import Gauge
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.bank_gateway.banks import service as banks
from services.bank_gateway.clients import GuaranteeClient, IntakeClient
from services.bank_gateway.models import Delivery, DeliveryKind, DeliveryStatus
from services.bank_gateway.notifications import repository as repo
from services.bank_gateway.notifications.outcomes import Backoff, Outcomes, Values
from services.bank_gateway.notifications.senders import call_service, post_webhook
from shared.clock import utcnow
from shared.contracts.claims import ClaimRequest, ClaimTopUpRequest, RecoveryReport
from shared.contracts.guarantee import (
    GuaranteeFiling,
    GuaranteeOutstanding,
    GuaranteeOverdue,
    GuaranteeRelease,
)
from shared.contracts.loan_status import (
    APPLICATION_NOT_FOUND,
    LoanStatusUpdateBatch,
    LoanStatusUpdateBatchResult,
    LoanStatusUpdateFor,
    LoanStatusUpdateOutcome,
)
from shared.faults import crash_point
from shared.jobs import Worker

BACKLOG = Gauge("gateway_delivery_backlog", "Deliveries waiting to be sent")

# What to do with the body of an answer (a delivery's event type → handler).
AnswerHandler = Callable[[AsyncSession, str], Awaitable[None]]
# The fund refused a call with its decision: (session, the row's payload, its problem).
RefusalHandler = Callable[[AsyncSession, dict[str, Any], str], Awaitable[None]]


class DeliveryWorker(Worker):
    queue = repo.QUEUE

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        intake: IntakeClient,
        webhooks: httpx.AsyncClient,
        guarantee: GuaranteeClient | None = None,
        answers: Mapping[str, AnswerHandler] | None = None,
        refusals: Mapping[str, RefusalHandler] | None = None,
        retry_window: timedelta = timedelta(hours=24),
        webhook_backoff: tuple[float, float] = (10.0, 3600.0),
        intake_backoff: tuple[float, float] = (1.0, 60.0),
        lease_seconds: float = 60.0,
        poll_seconds: float = 1.0,
        batch_size: int = 50,
        intake_batch_size: int = 500,
        clock: Callable[[], datetime] = utcnow,
        private_webhooks: bool = False,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._intake = intake
        self._guarantee = guarantee
        self._webhooks = webhooks
        self._answers = dict(answers or {})
        self._refusals = dict(refusals or {})
        self._outcomes = Outcomes(retry_window=retry_window, clock=clock)
        self._webhook_backoff = Backoff(*webhook_backoff)
        self._internal_backoff = Backoff(*intake_backoff)
        self._lease = timedelta(seconds=lease_seconds)
        self._batch_size = batch_size
        self._intake_batch_size = intake_batch_size
        self._clock = clock
        self._private_webhooks = private_webhooks
        self.interval = poll_seconds

    async def step(self) -> int:
        """Lease the due rows and try each once; how many were tried."""
        return await self._to_intake() + await self._one_by_one()

    async def _claim(
        self, session: AsyncSession, kinds: tuple[str, ...], limit: int
    ) -> list[Delivery]:
        now = self._clock()
        return await repo.claim_deliveries(
            session=session, now=now, lease_until=now + self._lease, limit=limit, kinds=kinds
        )

    async def _one_by_one(self) -> int:
        """Notifications to banks and calls to the guarantee service, one request each."""
        async with self._sessionmaker() as session, session.begin():
            rows = await self._claim(
                session, (DeliveryKind.WEBHOOK, DeliveryKind.GUARANTEE), self._batch_size
            )
            targets = await banks.webhook_targets(
                session=session,
                bank_ids=list({r.bank_id for r in rows if r.bank_id is not None}),
                now=self._clock(),
            )
            BACKLOG.set(await repo.pending_count(session=session))
        # One lane per bank (and one for the guarantee service), run side by side: a slow
        # or dead endpoint delays only its own bank's notifications. Within a lane, in order.
        lanes: dict[object, list[Delivery]] = {}
        for row in rows:
            lane = row.bank_id if row.kind == DeliveryKind.WEBHOOK else DeliveryKind.GUARANTEE
            lanes.setdefault(lane, []).append(row)
        await asyncio.gather(*(self._lane(lane_rows, targets) for lane_rows in lanes.values()))
        return len(rows)

    async def _lane(
        self, rows: list[Delivery], targets: dict[Any, tuple[str | None, list[str]]]
    ) -> None:
        unreachable: Values | None = None
        for row in rows:
            answer: str | None = None
            if unreachable is not None:
                # The bank's endpoint did not answer this round: the rest of its queue waits
                # for the next one instead of each waiting out the deadline in turn.
                outcome = self._outcomes.retry(
                    row,
                    str(unreachable.get("last_error")),
                    None,
                    self._webhook_backoff,
                    window=True,
                )
            elif row.kind == DeliveryKind.WEBHOOK:
                target = targets.get(row.bank_id, (None, [])) if row.bank_id else (None, [])
                outcome = await post_webhook(
                    self._webhooks,
                    row,
                    target,
                    self._outcomes,
                    self._webhook_backoff,
                    private_addresses=self._private_webhooks,
                )
                if outcome.get("status") != DeliveryStatus.DELIVERED and not outcome.get(
                    "last_status_code"
                ):
                    unreachable = outcome
            else:
                outcome, answer = await call_service(
                    row, self._guarantee_call(row), self._outcomes, self._internal_backoff
                )
            crash_point("gateway.delivery.sent")
            async with self._sessionmaker() as session, session.begin():
                handler = self._answers.get(row.event_type)
                if answer is not None and handler is not None:
                    # Recorded in the transaction that marks the row delivered: a crash in
                    # between sends the row again, and the guarantee service gives the same
                    # answer again.
                    await handler(session, answer)
                outcome = await self._refused(session, row, outcome)
                await repo.finish_delivery(session=session, delivery_id=row.id, **outcome)

    async def _refused(self, session: AsyncSession, row: Delivery, outcome: Values) -> Values:
        """A refusal that is the fund's decision (a 备案 refused: 409 or 422 with its problem)
        is handed to the ledger and the row counts as answered; other failures stay failed."""
        handler = self._refusals.get(row.event_type)
        code = outcome.get("last_status_code") or 0
        decided = outcome.get("status") == DeliveryStatus.FAILED and code in (409, 422)
        if handler is None or not decided:
            return outcome
        await handler(session, dict(row.payload), str(outcome.get("last_error") or ""))
        return self._outcomes.delivered(row, code)

    def _guarantee_call(self, row: Delivery) -> Coroutine[Any, Any, tuple[int, str]]:
        assert self._guarantee is not None
        payload = dict(row.payload)
        if row.event_type == "guarantee.claim":
            return self._guarantee.file_claim(ClaimRequest.model_validate(payload))
        if row.event_type == "guarantee.recovery":
            loan_id = uuid.UUID(payload.pop("loan_id"))
            return self._guarantee.report_recovery(loan_id, RecoveryReport.model_validate(payload))
        if row.event_type == "guarantee.outstanding":
            loan_id = uuid.UUID(payload.pop("loan_id"))
            report = GuaranteeOutstanding.model_validate(payload)
            return self._guarantee.report_outstanding(loan_id, report)
        if row.event_type == "guarantee.topups":
            payload.pop("loan_id")  # the filing that raised the ceiling: for ordering only
            return self._guarantee.top_up(ClaimTopUpRequest.model_validate(payload))
        if row.event_type == "guarantee.overdue":
            loan_id = uuid.UUID(payload.pop("loan_id"))
            return self._guarantee.report_overdue(loan_id, GuaranteeOverdue.model_validate(payload))
        if row.event_type == "guarantee.release":
            loan_id = uuid.UUID(payload.pop("loan_id"))
            return self._guarantee.release(loan_id, GuaranteeRelease.model_validate(payload))
        return self._guarantee.file_loan(GuaranteeFiling.model_validate(payload))

    async def _to_intake(self) -> int:
        """Loan changes to loan_intake, many in one request; each row's own outcome.

        At most one row per application is leased at a time (the oldest pending), so an
        application's changes arrive in order whatever happens to a request."""
        async with self._sessionmaker() as session, session.begin():
            rows = await self._claim(session, (DeliveryKind.INTAKE,), self._intake_batch_size)
        if not rows:
            return 0
        batch = LoanStatusUpdateBatch(
            updates=[
                LoanStatusUpdateFor.model_validate(
                    {**r.payload, "update_id": str(r.id), "application_id": r.application_id}
                )
                for r in rows
            ]
        )
        outcome, answer = await call_service(
            rows[0], self._intake.loan_updates(batch), self._outcomes, self._internal_backoff
        )
        if answer is None:  # the whole request failed: each row is retried or failed alike
            finished = {rows[0].id: outcome} | {r.id: self._again(r, outcome) for r in rows[1:]}
        else:
            results = LoanStatusUpdateBatchResult.model_validate_json(answer).results
            # One time for the batch: rows delivered alike are finished in one statement.
            answered_at = self._clock()
            finished = {
                r.id: self._intake_outcome(r, result, answered_at)
                for r, result in zip(rows, results, strict=True)
            }
        async with self._sessionmaker() as session, session.begin():
            await repo.finish_deliveries(session=session, outcomes=finished)
        return len(rows)

    def _again(self, row: Delivery, outcome: Values) -> Values:
        """What became of the batch's first row, for another row of the batch."""
        if outcome.get("status") == DeliveryStatus.FAILED:
            return outcome
        error, status_code = outcome.get("last_error") or "", outcome.get("last_status_code")
        return self._outcomes.retry(row, error, status_code, self._internal_backoff, window=False)

    def _intake_outcome(
        self, row: Delivery, result: LoanStatusUpdateOutcome, now: datetime
    ) -> Values:
        if result.outcome in ("applied", "duplicate"):
            return self._outcomes.delivered(row, 201 if result.outcome == "applied" else 200, now)
        if result.outcome == "skipped":
            return self._outcomes.retry(
                row, result.detail or "skipped", 409, self._internal_backoff, window=False
            )
        return self._outcomes.failed(
            row,
            404 if result.problem_type == APPLICATION_NOT_FOUND else 409,
            result.detail or "",
            application_id=str(row.application_id),
            problem=result.problem_type,
        )
