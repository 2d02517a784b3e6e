"""Background work on PostgreSQL: procrastinate runs it, not a loop of our own.

The work itself stays where it is safe: each outbox (or job table) is a table written in
the transaction that creates the work, and a step claims due rows with ``FOR UPDATE SKIP
LOCKED`` and a lease. What procrastinate adds is the running of those steps across
processes and machines: a *drain* task, deferred when new work is committed and every
``tick_seconds`` by its periodic deferrer (one per tick for the whole cluster), is fetched
by exactly one worker (procrastinate's own ``SKIP LOCKED`` fetch) and steps until nothing
is due. Any number of replicas run workers; two draining at once take different rows.

On SQLite (one process, the embedded default) the services keep their in-process loop.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import procrastinate
import psycopg
import sqlalchemy as sa
import structlog
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.schema import SchemaManager

log = structlog.get_logger("jobs")

# Rounds of one drain before it hands over to the next (new work defers another drain).
MAX_ROUNDS = 200


def libpq_url(database_url: str) -> str:
    """``postgresql+asyncpg://…`` (SQLAlchemy) as psycopg wants it."""
    return (
        sa.engine.make_url(database_url)
        .set(drivername="postgresql")
        .render_as_string(hide_password=False)
    )


def uses_procrastinate(database_url: str) -> bool:
    return database_url.startswith("postgresql")


def new_app(database_url: str) -> procrastinate.App:
    connector = procrastinate.PsycopgConnector(
        conninfo=libpq_url(database_url), min_size=1, max_size=4
    )
    return procrastinate.App(connector=connector)


def ensure_schema(database_url: str) -> bool:
    """Install procrastinate's tables in the service's database once; True if it did."""
    with psycopg.connect(libpq_url(database_url), autocommit=True) as connection:
        # Two services migrating the same database at once wait for each other here.
        connection.execute("SELECT pg_advisory_lock(hashtext('procrastinate schema'))")
        try:
            present = connection.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
            if present and present[0] is not None:
                return False
            schema = SchemaManager.get_schema()
            connection.execute(schema)  # type: ignore[arg-type]
            return True
        finally:
            connection.execute("SELECT pg_advisory_unlock(hashtext('procrastinate schema'))")


class Drain:
    """``step`` (claims due rows, works them, returns how many) run by procrastinate workers
    until it returns 0: deferred on :meth:`wake` and every ``tick_seconds``."""

    def __init__(
        self,
        app: procrastinate.App,
        name: str,
        step: Callable[[], Awaitable[int]],
        *,
        tick_seconds: int = 1,
    ) -> None:
        self.app = app
        self.name = name
        self._step = step
        self._loop: asyncio.AbstractEventLoop | None = None
        self._deferring: set[asyncio.Task[None]] = set()
        self.rounds = 0  # steps that found work, in this process

        @app.task(name=name, queueing_lock=name, pass_context=False)
        async def drain() -> None:
            await self.drain_now()

        @app.periodic(cron=f"* * * * * */{tick_seconds}", periodic_id=name)
        @app.task(name=f"{name}.tick", pass_context=False)
        async def tick(timestamp: int) -> None:  # procrastinate passes the tick's time
            await self.drain_now()

        self._task = drain

    async def drain_now(self) -> int:
        total = 0
        for _ in range(MAX_ROUNDS):
            done = await self._step()
            if done == 0:
                break
            if total == 0:
                # There is a backlog: leave a drain waiting, so that an idle worker (this
                # replica's or another's) joins in, claiming other rows.
                await self.defer()
            total += done
            self.rounds += 1
        return total

    async def defer(self) -> None:
        with contextlib.suppress(AlreadyEnqueued):  # one waiting drain is enough
            await self._task.defer_async()

    def wake(self) -> None:
        """New work committed: have a worker drain soon. Safe from any thread."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(self._start_defer)

    def _start_defer(self) -> None:
        task = asyncio.get_running_loop().create_task(self._defer_logged())
        self._deferring.add(task)  # the loop keeps only a weak reference to a task
        task.add_done_callback(self._deferring.discard)

    async def _defer_logged(self) -> None:
        try:
            await self.defer()
        except Exception:
            log.exception("jobs.defer_failed", task=self.name)

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop


class Worker:
    """A procrastinate worker inside the service's process, for its lifespan."""

    def __init__(self, app: procrastinate.App, *, name: str, concurrency: int = 2) -> None:
        self.app = app
        self.name = name
        self.concurrency = concurrency
        self._task: asyncio.Task[None] | None = None
        self._opened = False

    async def start(self, *drains: Drain) -> None:
        await self.app.open_async()
        self._opened = True
        loop = asyncio.get_running_loop()
        for drain in drains:
            drain.bind(loop)
        self._task = asyncio.create_task(
            self.app.run_worker_async(
                name=self.name,
                concurrency=self.concurrency,
                wait=True,
                install_signal_handlers=False,
                listen_notify=True,
                delete_jobs="successful",
            ),
            name=f"procrastinate-{self.name}",
        )
        for drain in drains:
            await drain.defer()  # whatever was left by the previous process

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._task, timeout=10)
            self._task = None
        if self._opened:
            await self.app.close_async()
            self._opened = False


Step = Callable[[], Awaitable[int]]


@asynccontextmanager
async def background(
    *,
    database_url: str,
    service: str,
    enabled: bool,
    runner: Any,
    steps: dict[str, tuple[Step, int]],
) -> AsyncIterator[None]:
    """Run ``runner``'s work for the service's lifespan: on PostgreSQL as procrastinate
    drains (``steps``: name → (step, seconds between ticks); the first is the one
    ``runner.wake()`` defers), elsewhere as the runner's own loop (``runner.start()``)."""
    if not enabled:
        yield
        return
    if not uses_procrastinate(database_url):
        runner.start()
        yield  # the service's lifespan stops the runner
        return
    app = new_app(database_url)
    drains = [Drain(app, name, step, tick_seconds=tick) for name, (step, tick) in steps.items()]
    runner.drain = drains[0]
    worker = Worker(app, name=service)
    await worker.start(*drains)
    log.info("jobs.worker_started", service=service, drains=list(steps))
    try:
        yield
    finally:
        await worker.stop()
        runner.drain = None
