"""Delivers the gateway's outbox: signed notifications to banks, loan changes to loan_intake.

Each row was written in the transaction of the change it tells of, so nothing is sent for a
change that did not happen and nothing is lost if the process dies: a leased row whose
worker vanished is taken again when its lease runs out. Rows are leased with
``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers never send the same one.

- To a bank: ``POST`` to its webhook URL, signed per Standard Webhooks with every signing
  secret currently valid (during a rotation the bank may check either). Any 2xx is
  delivered; anything else is retried with full-jitter exponential backoff until 24 h
  after the row was written, then the row is dead — listed, and redeliverable by hand.
- To loan_intake: loan updates, up to 500 in one request, idempotent there on their
  ``update_id`` (the row's id). Unreachable or 5xx: retried indefinitely. Refused (4xx):
  failed for good, logged as an error.
- To the guarantee service, retried the same way: 备案 of a disbursed loan, a claim (its
  answer is the fund's decision, recorded on the loan when the row is marked delivered),
  a recovery after a payout (its answer is the split).
"""

import asyncio
import contextlib
import json
import uuid
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any

import httpx
import structlog
from prometheus_client import Counter, Gauge
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from standardwebhooks import Webhook

from services.bank_gateway import repository as repo
from services.bank_gateway.callbacks import apply_claim_decision, apply_recovery_share
from services.bank_gateway.clients import GuaranteeClient, IntakeClient
from services.bank_gateway.models import Delivery, DeliveryKind, DeliveryStatus
from shared.backoff import backoff_seconds
from shared.clock import utcnow
from shared.contracts.claims import ClaimDecision, ClaimRequest, RecoveryReport, RecoveryShare
from shared.contracts.guarantee import GuaranteeFiling
from shared.contracts.loan_status import (
    LoanStatusUpdateBatch,
    LoanStatusUpdateBatchResult,
    LoanStatusUpdateFor,
    LoanStatusUpdateOutcome,
)
from shared.faults import crash_point
from shared.jobs import Drain

log = structlog.get_logger("bank_gateway.outbox")

DELIVERIES = Counter("gateway_deliveries_total", "Outbox delivery attempts", ["kind", "outcome"])
BACKLOG = Gauge("gateway_delivery_backlog", "Deliveries waiting to be sent")


def webhook_id(delivery: Delivery) -> str:
    return f"msg_{delivery.id.hex}"


def signed_request(
    delivery: Delivery, secrets: list[str], now: datetime
) -> tuple[bytes, dict[str, str]]:
    """The body and the Standard Webhooks headers, one signature per valid secret."""
    body = json.dumps(
        {"type": delivery.event_type, "timestamp": now.isoformat(), "data": delivery.payload},
        ensure_ascii=False,
        separators=(",", ":"),
    )
    msg_id = webhook_id(delivery)
    signatures = " ".join(Webhook(secret).sign(msg_id, now, body) for secret in secrets)
    headers = {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signatures,
    }
    return body.encode(), headers


class DeliveryDispatcher:
    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        intake: IntakeClient,
        webhooks: httpx.AsyncClient,
        guarantee: GuaranteeClient | None = None,
        retry_window: timedelta = timedelta(hours=24),
        webhook_backoff: tuple[float, float] = (10.0, 3600.0),
        intake_backoff: tuple[float, float] = (1.0, 60.0),
        lease_seconds: float = 60.0,
        poll_seconds: float = 1.0,
        batch_size: int = 50,
        intake_batch_size: int = 500,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._intake = intake
        self._guarantee = guarantee
        self._webhooks = webhooks
        self._retry_window = retry_window
        self._webhook_backoff = webhook_backoff
        self._intake_backoff = intake_backoff
        self._lease = timedelta(seconds=lease_seconds)
        self._poll_seconds = poll_seconds
        self._batch_size = batch_size
        self._intake_batch_size = intake_batch_size
        self._clock = clock
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.drain: Drain | None = None

    def wake(self) -> None:
        """New work committed: on PostgreSQL a procrastinate drain, else this loop."""
        if self.drain is not None:
            self.drain.wake()
        else:
            self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="delivery-dispatcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            try:
                sent = await self.dispatch_once()
            except Exception:
                log.exception("outbox.error")
                sent = 0
            if sent == 0:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._poll_seconds)

    async def dispatch_once(self) -> int:
        """Lease the due rows and try each once; how many were tried."""
        return await self._dispatch_intake() + await self._dispatch_one_by_one()

    async def _dispatch_one_by_one(self) -> int:
        """Notifications to banks and calls to the guarantee service, one request each."""
        now = self._clock()
        async with self._sessionmaker() as session, session.begin():
            rows = await repo.claim_deliveries(
                session=session,
                now=now,
                lease_until=now + self._lease,
                limit=self._batch_size,
                kinds=(DeliveryKind.WEBHOOK, DeliveryKind.GUARANTEE),
            )
            secrets = {}
            banks = {}
            bank_ids = list({r.bank_id for r in rows if r.bank_id is not None})
            for secret in await repo.valid_signing_secrets(
                session=session, bank_ids=bank_ids, now=now
            ):
                secrets.setdefault(secret.bank_id, []).append(secret.secret)
            for bank_id in bank_ids:
                banks[bank_id] = await repo.get_bank(session=session, bank_id=bank_id)
            BACKLOG.set(await repo.pending_count(session=session))
        for row in rows:
            bank = banks.get(row.bank_id) if row.bank_id else None
            answer: str | None = None
            if row.kind == DeliveryKind.WEBHOOK:
                outcome = await self._send_webhook(
                    row, bank.webhook_url if bank else None, secrets.get(row.bank_id, [])
                )
            else:
                outcome, answer = await self._send_to_guarantee(row)
            crash_point("gateway.delivery.sent")
            async with self._sessionmaker() as session, session.begin():
                if answer is not None and outcome.get("status") == DeliveryStatus.DELIVERED:
                    # The answer is recorded in the transaction that marks the row delivered:
                    # a crash in between sends the row again, and the guarantee service gives
                    # the same answer again.
                    await self._record_answer(session, row, answer)
                await repo.finish_delivery(session=session, delivery_id=row.id, **outcome)
        return len(rows)

    async def _dispatch_intake(self) -> int:
        """Loan changes to loan_intake, many in one request; each row's own outcome.

        At most one row per application is leased at a time (the oldest pending), so an
        application's changes arrive in order whatever happens to a request."""
        now = self._clock()
        async with self._sessionmaker() as session, session.begin():
            rows = await repo.claim_deliveries(
                session=session,
                now=now,
                lease_until=now + self._lease,
                limit=self._intake_batch_size,
                kinds=(DeliveryKind.INTAKE,),
            )
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
        outcomes, answer = await self._send_internal(rows[0], self._intake.loan_updates(batch))
        if answer is None:  # the whole request failed: each row is retried or failed alike
            finished = {rows[0].id: outcomes} | {r.id: self._again(r, outcomes) for r in rows[1:]}
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

    def _again(self, row: Delivery, outcome: dict[str, Any]) -> dict[str, Any]:
        """What became of the batch's first row, for another row of the batch."""
        if outcome.get("status") == DeliveryStatus.FAILED:
            return outcome
        error, status_code = outcome.get("last_error") or "", outcome.get("last_status_code")
        return self._retry(row, error, status_code, self._intake_backoff, window=False)

    def _intake_outcome(
        self, row: Delivery, result: LoanStatusUpdateOutcome, now: datetime
    ) -> dict[str, Any]:
        if result.outcome in ("applied", "duplicate"):
            return self._delivered(row, 201 if result.outcome == "applied" else 200, now)
        if result.outcome == "skipped":
            return self._retry(
                row, result.detail or "skipped", 409, self._intake_backoff, window=False
            )
        DELIVERIES.labels(row.kind, "failed").inc()
        log.error(
            "outbox.failed",
            delivery_id=str(row.id),
            application_id=str(row.application_id),
            problem=result.problem_type,
            error=result.detail,
        )
        return {
            "status": DeliveryStatus.FAILED,
            "last_status_code": 404 if result.problem_type == "application-not-found" else 409,
            "last_error": (result.detail or "")[:2000],
            "ended_at": now,
            "lease_until": None,
        }

    async def _record_answer(self, session: AsyncSession, row: Delivery, answer: str) -> None:
        if row.event_type == "guarantee.claim":
            decision = ClaimDecision.model_validate_json(answer)
            await apply_claim_decision(session=session, decision=decision)
            log.info(
                "claim.decided",
                loan_id=str(decision.loan_id),
                outcome=decision.outcome.value,
                payout=str(decision.payout),
            )
        elif row.event_type == "guarantee.recovery":
            await apply_recovery_share(
                session=session, share=RecoveryShare.model_validate_json(answer)
            )

    def _retry(
        self,
        row: Delivery,
        error: str,
        status_code: int | None,
        backoff: tuple[float, float],
        *,
        window: bool,
    ) -> dict[str, Any]:
        now = self._clock()
        if window and now - row.window_from >= self._retry_window:
            DELIVERIES.labels(row.kind, "dead").inc()
            log.error(
                "outbox.dead", delivery_id=str(row.id), event_type=row.event_type, error=error
            )
            return {
                "status": DeliveryStatus.DEAD,
                "last_error": error[:2000],
                "last_status_code": status_code,
                "ended_at": now,
                "lease_until": None,
            }
        delay = backoff_seconds(row.attempts, base=backoff[0], cap=backoff[1])
        DELIVERIES.labels(row.kind, "retry").inc()
        log.warning(
            "outbox.retry",
            delivery_id=str(row.id),
            event_type=row.event_type,
            attempt=row.attempts,
            in_seconds=round(delay, 1),
            error=error[:300],
        )
        return {
            "last_error": error[:2000],
            "last_status_code": status_code,
            "next_attempt_at": now + timedelta(seconds=delay),
            "lease_until": None,
        }

    def _delivered(
        self, row: Delivery, status_code: int, now: datetime | None = None
    ) -> dict[str, Any]:
        DELIVERIES.labels(row.kind, "delivered").inc()
        log.info("outbox.delivered", delivery_id=str(row.id), event_type=row.event_type)
        now = now or self._clock()
        return {
            "status": DeliveryStatus.DELIVERED,
            "last_status_code": status_code,
            "last_error": None,
            "delivered_at": now,
            "ended_at": now,
            "lease_until": None,
        }

    async def _send_webhook(
        self, row: Delivery, url: str | None, secrets: list[str]
    ) -> dict[str, Any]:
        if not url:
            return self._retry(
                row, "该银行没有登记回调地址", None, self._webhook_backoff, window=True
            )
        if not secrets:
            return self._retry(
                row, "该银行没有有效的签名密钥", None, self._webhook_backoff, window=True
            )
        body, headers = signed_request(row, secrets, self._clock())
        try:
            response = await self._webhooks.post(url, content=body, headers=headers)
        except httpx.HTTPError as error:
            return self._retry(
                row, f"{type(error).__name__}: {error}", None, self._webhook_backoff, window=True
            )
        if 200 <= response.status_code < 300:
            return self._delivered(row, response.status_code)
        return self._retry(
            row,
            f"HTTP {response.status_code}: {response.text[:300]}",
            response.status_code,
            self._webhook_backoff,
            window=True,
        )

    async def _send_to_guarantee(self, row: Delivery) -> tuple[dict[str, Any], str | None]:
        """(the outcome, the body the guarantee service answered with when it took the row)."""
        assert self._guarantee is not None
        payload = dict(row.payload)
        if row.event_type == "guarantee.claim":
            call = self._guarantee.file_claim(ClaimRequest.model_validate(payload))
        elif row.event_type == "guarantee.recovery":
            loan_id = uuid.UUID(payload.pop("loan_id"))
            call = self._guarantee.report_recovery(loan_id, RecoveryReport.model_validate(payload))
        else:
            call = self._guarantee.file_loan(GuaranteeFiling.model_validate(payload))
        return await self._send_internal(row, call)

    async def _send_internal(
        self, row: Delivery, call: Coroutine[Any, Any, tuple[int, str]]
    ) -> tuple[dict[str, Any], str | None]:
        """To one of our own services: retried indefinitely unless it refuses (4xx).
        (the outcome, the answer's body when it was taken)."""
        try:
            status_code, text = await call
        except httpx.HTTPError as error:
            error_text = f"{type(error).__name__}: {error}"
            return self._retry(row, error_text, None, self._intake_backoff, window=False), None
        if status_code < 300:
            return self._delivered(row, status_code), text
        if status_code >= 500 or status_code in (408, 429):
            error_text = f"HTTP {status_code}: {text[:300]}"
            return (
                self._retry(row, error_text, status_code, self._intake_backoff, window=False),
                None,
            )
        DELIVERIES.labels(row.kind, "failed").inc()
        log.error("outbox.failed", delivery_id=str(row.id), status=status_code, error=text[:500])
        now = self._clock()
        failed = {
            "status": DeliveryStatus.FAILED,
            "last_status_code": status_code,
            "last_error": text[:2000],
            "ended_at": now,
            "lease_until": None,
        }
        return failed, None
