"""What becomes of one delivery attempt: the values its outbox row is updated with.

Delivered (any 2xx); retried with full-jitter exponential backoff — a bank's notification
only within the retry window (24 h from the row, or from the last redelivery by hand),
then dead; a call to one of our own services indefinitely — or failed for good when our
own service refused it (4xx): retrying would not help, an operator must look.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from prometheus_client import Counter

from services.bank_gateway.models import Delivery, DeliveryStatus
from shared.backoff import backoff_seconds

log = structlog.get_logger("bank_gateway.outbox")

DELIVERIES = Counter("gateway_deliveries_total", "Outbox delivery attempts", ["kind", "outcome"])

Values = dict[str, Any]


@dataclass(frozen=True)
class Backoff:
    base: float
    cap: float


class Outcomes:
    def __init__(self, *, retry_window: timedelta, clock: Callable[[], datetime]) -> None:
        self._retry_window = retry_window
        self.clock = clock

    def delivered(self, row: Delivery, status_code: int, now: datetime | None = None) -> Values:
        DELIVERIES.labels(row.kind, "delivered").inc()
        log.info("outbox.delivered", delivery_id=str(row.id), event_type=row.event_type)
        now = now or self.clock()
        return {
            "status": DeliveryStatus.DELIVERED,
            "last_status_code": status_code,
            "last_error": None,
            "delivered_at": now,
            "ended_at": now,
            "lease_until": None,
        }

    def retry(
        self,
        row: Delivery,
        error: str,
        status_code: int | None,
        backoff: Backoff,
        *,
        window: bool,
    ) -> Values:
        """Again later; dead instead when ``window`` (a bank's) and the window has passed."""
        now = self.clock()
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
        delay = backoff_seconds(row.attempts, base=backoff.base, cap=backoff.cap)
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

    def failed(self, row: Delivery, status_code: int, error: str, **logged: Any) -> Values:
        DELIVERIES.labels(row.kind, "failed").inc()
        log.error("outbox.failed", delivery_id=str(row.id), error=error[:500], **logged)
        return {
            "status": DeliveryStatus.FAILED,
            "last_status_code": status_code,
            "last_error": error[:2000],
            "ended_at": self.clock(),
            "lease_until": None,
        }
