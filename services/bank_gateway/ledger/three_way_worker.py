"""The three-way reconciliation of the whole portfolio, run here and kept: every
``interval`` (6 hours unless set) and whenever a clerk asks for one (the console's
"立即对账", a queued row). Each run's report is kept for the console (reading every loan
on every view does not scale, bench/README.md), its outcome logged and exported as
metrics — differences to look into are a warning an operator's alerting picks up, those
in flight only information."""

import time
import uuid

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
from services.bank_gateway.ledger import three_way_repository as runs
from services.bank_gateway.ledger.schemas import ThreeWayReport
from shared.jobs import Worker

log = structlog.get_logger("bank_gateway.reconciliation")
DIFFERENCES = Gauge(
    "gateway_three_way_differences",
    "Differences found by the last three-way reconciliation",
    ["kind"],
)


class ThreeWayReconciler(Worker):
    queue = runs.QUEUE

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        read_sessionmaker: async_sessionmaker[AsyncSession],
        guarantee: GuaranteeClient,
        intake: IntakeClient,
        interval_seconds: float,
    ) -> None:
        self._sessionmaker = sessionmaker
        # The reconciliation only reads (and asks the other services over HTTP meanwhile):
        # on SQLite a read session holds no write lock for those minutes.
        self._read = read_sessionmaker
        self._guarantee = guarantee
        self._intake = intake
        self.interval = interval_seconds
        # Not at start-up (a restart must not cost a reconciliation): a few minutes later.
        self._next_run = time.monotonic() + min(interval_seconds, 300)

    async def step(self) -> int:
        """The run a clerk asked for, or the scheduled one when due: 1 if one ran."""
        run_id = await self._claim(scheduled=time.monotonic() >= self._next_run)
        if run_id is None:
            return 0
        self._next_run = time.monotonic() + self.interval
        await self._reconcile(run_id)
        return 1

    async def run(self) -> ThreeWayReport | None:
        """Reconcile now, as the schedule would; the report (None: a service was down)."""
        run_id = await self._claim(scheduled=True)
        assert run_id is not None
        return await self._reconcile(run_id)

    async def _claim(self, *, scheduled: bool) -> uuid.UUID | None:
        async with self._sessionmaker() as session, session.begin():
            return await runs.claim_run(session=session, scheduled=scheduled)

    async def _finish(
        self, run_id: uuid.UUID, report: ThreeWayReport | None, error: str | None
    ) -> None:
        async with self._sessionmaker() as session, session.begin():
            await runs.finish_run(
                session=session,
                run_id=run_id,
                report=report.model_dump(mode="json") if report is not None else None,
                error=error,
            )

    async def _reconcile(self, run_id: uuid.UUID) -> ThreeWayReport | None:
        try:
            async with self._read() as session:
                report = await three_way.reconcile(
                    session=session, guarantee=self._guarantee, intake=self._intake
                )
        except (GuaranteeUnavailable, IntakeUnavailable) as error:
            log.warning("reconciliation.three_way_unavailable", error=str(error))
            await self._finish(run_id, None, f"对账所需的服务暂不可用：{error}")
            return None
        except Exception:
            log.exception("reconciliation.three_way_failed")
            await self._finish(run_id, None, "对账失败，已记录，请稍后重试")
            raise
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
        await self._finish(run_id, report, None)
        return report
