"""The three-way reconciliation on a schedule: every ``interval`` (6 hours unless set), the
whole portfolio is reconciled (ledger/three_way.py) and the outcome logged and exported as
metrics — differences to look into are a warning an operator's alerting picks up, those in
flight only information. Nothing is written: the report is always asked for afresh."""

import time

import structlog
from prometheus_client import Gauge
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.bank_gateway.clients import (
    GuaranteeClient,
    GuaranteeUnavailable,
    IntakeClient,
    IntakeUnavailable,
)
from services.bank_gateway.ledger import three_way
from shared.jobs import Worker

log = structlog.get_logger("bank_gateway.reconciliation")
DIFFERENCES = Gauge(
    "gateway_three_way_differences",
    "Differences found by the last three-way reconciliation",
    ["kind"],
)


class ThreeWayReconciler(Worker):
    queue = "gateway.three_way"

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        guarantee: GuaranteeClient,
        intake: IntakeClient,
        interval_seconds: float,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._guarantee = guarantee
        self._intake = intake
        self.interval = interval_seconds
        # Not at start-up (a restart must not cost a reconciliation): a few minutes later.
        self._next_run = time.monotonic() + min(interval_seconds, 300)

    async def step(self) -> int:
        """One reconciliation of every lent loan when it is due; always 0 (nothing queued)."""
        if time.monotonic() < self._next_run:
            return 0
        self._next_run = time.monotonic() + self.interval
        await self.run()
        return 0

    async def run(self) -> None:
        """Reconcile now: log the outcome and set the gauges."""
        try:
            async with self._sessionmaker() as session:
                report = await three_way.reconcile(
                    session=session, guarantee=self._guarantee, intake=self._intake
                )
        except (GuaranteeUnavailable, IntakeUnavailable) as error:
            log.warning("reconciliation.three_way_unavailable", error=str(error))
            return
        to_look_into = len(report.differences) - report.in_flight
        DIFFERENCES.labels("to_look_into").set(to_look_into)
        DIFFERENCES.labels("in_flight").set(report.in_flight)
        (log.warning if to_look_into else log.info)(
            "reconciliation.three_way",
            loans=report.loans_checked,
            differences=len(report.differences),
            in_flight=report.in_flight,
            first=[f"{d.loan_id} {d.source} {d.what}" for d in report.differences[:5]],
        )
