"""The claim-notice worker: tells the bank gateway each claim decided or paid.

A notice is a row written in the transaction that decided or paid the claim
(claims/review.py), so nothing is told of a change that did not happen and nothing is lost
if the process dies. The worker posts it to the gateway (``POST /v1/claim-notices``, our
service token); the gateway applies it once, whatever the number of deliveries, and tells
the bank. A failed delivery is tried again later, backing off up to the cap.
"""

from datetime import timedelta

import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.guarantee.claims import repository as repo
from shared.backoff import backoff_seconds
from shared.clock import utcnow
from shared.jobs import Worker

log = structlog.get_logger("guarantee.claim_notices")


class ClaimNoticeSender(Worker):
    queue = repo.CLAIM_NOTICE_QUEUE

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        gateway: httpx.AsyncClient,
        backoff: tuple[float, float] = (2.0, 3600.0),
        lease_seconds: float = 60.0,
        poll_seconds: float = 5.0,
        batch_size: int = 20,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._gateway = gateway
        self._backoff = backoff
        self._lease = timedelta(seconds=lease_seconds)
        self._batch_size = batch_size
        self.interval = poll_seconds

    async def step(self) -> int:
        """Send the due notices once each; how many were tried."""
        async with self._sessionmaker() as session, session.begin():
            now = utcnow()
            rows = await repo.claim_due_notices(
                session=session, now=now, lease_until=now + self._lease, limit=self._batch_size
            )
            due = [(row.id, row.attempts, row.body) for row in rows]
        for notice_id, attempts, body in due:
            error = await self._send(body)
            async with self._sessionmaker() as session, session.begin():
                if error is None:
                    await repo.finish_notice(
                        session=session, notice_id=notice_id, delivered_at=utcnow()
                    )
                    continue
                base, cap = self._backoff
                later = utcnow() + timedelta(seconds=backoff_seconds(attempts, base=base, cap=cap))
                await repo.finish_notice(
                    session=session,
                    notice_id=notice_id,
                    delivered_at=None,
                    next_attempt_at=later,
                    error=error,
                )
                log.warning("claim_notice.failed", notice_id=str(notice_id), error=error)
        return len(due)

    async def _send(self, body: dict[str, object]) -> str | None:
        """None when the gateway has it; else what went wrong (kind only, never its body)."""
        try:
            response = await self._gateway.post("/v1/claim-notices", json=body)
        except httpx.HTTPError as error:
            return type(error).__name__
        return None if response.is_success else f"HTTP {response.status_code}"
