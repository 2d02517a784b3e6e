"""Background work: every outbox and job of the three services on one worker base.

A :class:`Worker` is one kind of background work reduced to its ``step()``: claim the
due rows of its table (``FOR UPDATE SKIP LOCKED`` and a lease, so two workers never take
the same row), work them, say how many. The work itself is always a row written in the
transaction that creates it, so nothing is sent for a change that did not happen and
nothing is lost if a process dies. Everything else lives here, once:

- **Waking after commit.** A repository that writes work for a worker calls
  :func:`queue_work` with the worker's queue inside the transaction. When that transaction
  commits — not when a savepoint inside it is released, and never after a rollback — the
  worker is woken (:class:`Wakeups`, one per process's app). No router or service has to
  remember to wake anything; a worker that is not woken still looks every ``interval``.
- **Running.** :class:`Workers` runs a process's workers for its lifespan. On SQLite (the
  embedded default) each worker is a loop of its own that steps until nothing is due, then
  sleeps ``interval`` or until woken. On PostgreSQL procrastinate
  runs them: a *drain* task per worker, deferred when it is woken and every ``interval``
  by its periodic deferrer (one per tick for the whole cluster), is fetched by exactly one
  worker process (procrastinate's own ``SKIP LOCKED`` fetch) and steps until nothing is
  due; any number of replicas run workers, and two draining at once take different rows.
- **Where.** A process's :class:`Role` says whether it runs the work, hands it over, or
  both: ``serve`` alone does both in its own event loop (tests, the smallest setup); with
  ``python -m services.<name> worker`` beside it, ``serve`` only hands over (on PostgreSQL
  a drain deferred to procrastinate, which wakes the worker by ``LISTEN/NOTIFY``; on SQLite
  nothing crosses processes: the worker watches the database's write-ahead log, which
  every commit of another process changes, :class:`_WalWatch`) and
  the worker process runs everything, so no request waits behind batch work.
"""

import asyncio
import contextlib
import enum
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import procrastinate
import psycopg
import sqlalchemy as sa
import structlog
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.schema import SchemaManager
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

log = structlog.get_logger("jobs")

# Steps of one drain before it hands over to the next (new work defers another drain).
MAX_ROUNDS = 200
# A worker process on SQLite is not woken by another process's commit: it looks at the
# database's write-ahead log this often (a stat, not a transaction).
WAL_WATCH_SECONDS = 0.1


class Role(enum.Enum):
    """What a process does with its background work."""

    ALL = "all"  # runs it in its own event loop and hands it over (serve alone)
    HANDOFF = "handoff"  # serve beside worker processes: hands work over, runs none
    WORKER = "worker"  # python -m services.<name> worker: runs it, serves no HTTP


class Worker:
    """One kind of background work. A subclass names its ``queue`` and gives ``step()``."""

    queue: str = ""
    # Seconds between looks when idle (it is also woken when work for it is committed).
    interval: float = 1.0
    _wake: Callable[[], None] | None = None

    async def step(self) -> int:
        """Claim due work, do it, return how much was done (0: nothing was due)."""
        raise NotImplementedError

    def wake(self) -> None:
        """Have the worker look now (it is running: its loop, or a procrastinate drain)."""
        if self._wake is not None:
            self._wake()


# --- leasing due rows -----------------------------------------------------------------------


async def lease_due(
    session: AsyncSession,
    model: Any,
    *,
    undone: Sequence[Any],
    order: Sequence[Any],
    now: Any,
    lease_until: Any,
    limit: int,
    worked_in: Sequence[Any] = (),
) -> Sequence[Any]:
    """Take up to ``limit`` rows of ``model`` that are ``undone``, due (``next_attempt_at``)
    and not leased by another worker (``locked_until``), first in ``order``, skipping rows
    another transaction holds; lease them and count the attempt. The rows, fresh, in
    ``worked_in`` order (default: ``order``)."""
    due = (
        sa.select(model.id)
        .where(
            *undone,
            model.next_attempt_at <= now,
            sa.or_(model.locked_until.is_(None), model.locked_until < now),
        )
        .order_by(*order)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list((await session.execute(due)).scalars().all())
    if not ids:
        return []
    await session.execute(
        sa.update(model)
        .where(model.id.in_(ids))
        .values(locked_until=lease_until, attempts=model.attempts + 1)
    )
    result = await session.execute(
        sa.select(model)
        .where(model.id.in_(ids))
        .order_by(*(worked_in or order))
        .execution_options(populate_existing=True)
    )
    return result.scalars().all()


# --- waking after commit -------------------------------------------------------------------

_QUEUED = "picidai.jobs.queued"
_WAKEUPS = "picidai.jobs.wakeups"


class Wakeups:
    """Which running worker of this app to wake for which queue. Several apps may share a
    process (the tests run two replicas side by side), so this is the app's, not global."""

    def __init__(self) -> None:
        self._workers: dict[str, Worker] = {}

    def session_info(self) -> dict[str, Any]:
        """For the app's sessionmaker: its sessions wake this app's workers."""
        return {_WAKEUPS: self}

    def register(self, worker: Worker) -> None:
        self._workers[worker.queue] = worker

    def unregister(self, worker: Worker) -> None:
        self._workers.pop(worker.queue, None)

    def wake(self, queue: str) -> None:
        worker = self._workers.get(queue)
        if worker is not None:
            worker.wake()


def queue_work(session: AsyncSession | Session, queue: str) -> None:
    """Work for ``queue`` was written in this transaction: wake its worker on commit."""
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    sync.info.setdefault(_QUEUED, set()).add(queue)


@event.listens_for(Session, "after_commit")
def _wake_after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: nothing is committed until its transaction is
    queued = session.info.pop(_QUEUED, None)
    wakeups = session.info.get(_WAKEUPS)
    if queued and isinstance(wakeups, Wakeups):
        for queue in sorted(queued):
            wakeups.wake(queue)


@event.listens_for(Session, "after_transaction_end")
def _forget_after_rollback(session: Session, transaction: SessionTransaction) -> None:
    # After a commit the queue was already taken (after_commit runs first); after a
    # rollback of the whole transaction its work is gone, and so is the reason to wake.
    if transaction.parent is None:
        session.info.pop(_QUEUED, None)


# --- running -------------------------------------------------------------------------------


async def _cancel(task: asyncio.Task[None] | None) -> None:
    """Cancel one of this module's loops and wait until it has ended (None: the new task)."""
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


class _Loop:
    """A worker in a loop of its own in this process (SQLite)."""

    def __init__(self, worker: Worker, loop: asyncio.AbstractEventLoop) -> None:
        self.worker = worker
        self._loop = loop
        self._event = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._event.set)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"worker-{self.worker.queue}")

    async def _run(self) -> None:
        while True:
            # Cleared before the step, so a wake that comes while it runs is kept.
            self._event.clear()
            try:
                done = await self.worker.step()
            except Exception:
                log.exception("jobs.step_failed", queue=self.worker.queue)
                done = 0
            if not done:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._event.wait(), self.worker.interval)

    async def stop(self) -> None:
        self._task = await _cancel(self._task)


def libpq_url(database_url: str) -> str:
    """``postgresql+asyncpg://…`` (SQLAlchemy) as psycopg wants it."""
    return (
        sa.engine.make_url(database_url)
        .set(drivername="postgresql")
        .render_as_string(hide_password=False)
    )


def uses_procrastinate(database_url: str) -> bool:
    return database_url.startswith("postgresql")


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


def _cron(seconds: float) -> str:
    """A procrastinate periodic schedule every ``seconds`` (seconds field under a minute)."""
    whole = max(int(seconds), 1)
    return f"* * * * * */{whole}" if whole < 60 else f"*/{max(whole // 60, 1)} * * * *"


class Drain:
    """A worker's ``step`` run by procrastinate workers until it returns 0: deferred on
    :meth:`wake` and every ``interval``."""

    def __init__(self, app: procrastinate.App, worker: Worker) -> None:
        self.worker = worker
        self._loop: asyncio.AbstractEventLoop | None = None
        self._deferring: set[asyncio.Task[None]] = set()
        name = worker.queue

        @app.task(name=name, queueing_lock=name, pass_context=False)
        async def drain() -> None:
            await self.drain_now()

        @app.periodic(cron=_cron(worker.interval), periodic_id=name)
        @app.task(name=f"{name}.tick", pass_context=False)
        async def tick(timestamp: int) -> None:  # procrastinate passes the tick's time
            await self.drain_now()

        self._task = drain

    async def drain_now(self) -> int:
        total = 0
        for _ in range(MAX_ROUNDS):
            done = await self.worker.step()
            if done == 0:
                break
            if total == 0:
                # There is a backlog: leave a drain waiting, so that an idle worker (this
                # replica's or another's) joins in, claiming other rows.
                await self.defer()
            total += done
        return total

    async def defer(self) -> None:
        with contextlib.suppress(AlreadyEnqueued):  # one waiting drain is enough
            await self._task.defer_async()

    def wake(self) -> None:
        """Safe from any thread."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._start_defer)

    def _start_defer(self) -> None:
        if self._deferring:
            # A defer is on its way: the drain it queues has not started, so it will see
            # this work too (a commit per bank event would otherwise be a job insert each).
            return
        task = asyncio.get_running_loop().create_task(self._defer_logged())
        self._deferring.add(task)  # the loop keeps only a weak reference to a task
        task.add_done_callback(self._deferring.discard)

    async def _defer_logged(self) -> None:
        try:
            await self.defer()
        except Exception:
            log.exception("jobs.defer_failed", queue=self.worker.queue)

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop


class _WalWatch:
    """Wakes a worker process's loops when another process commits to the SQLite database:
    every commit appends to (or, after a checkpoint, rewrites) the ``-wal`` file, so its
    size and time change. Its own commits wake it too; a step with nothing due is cheap."""

    def __init__(self, database_url: str, loops: Sequence["_Loop"]) -> None:
        database = sa.engine.make_url(database_url).database or ""
        self._wal = Path(f"{database}-wal")
        self._loops = loops
        self._task: asyncio.Task[None] | None = None

    def _seen(self) -> tuple[int, int] | None:
        try:
            stat = self._wal.stat()
        except FileNotFoundError:
            return None
        return (stat.st_size, stat.st_mtime_ns)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="worker-wal-watch")

    async def _run(self) -> None:
        last = self._seen()
        while True:
            await asyncio.sleep(WAL_WATCH_SECONDS)
            now = self._seen()
            if now != last:
                last = now
                for runner in self._loops:
                    runner.wake()

    async def stop(self) -> None:
        self._task = await _cancel(self._task)


class Workers:
    """A process's workers, for its lifespan: in-process loops on SQLite, procrastinate
    drains on PostgreSQL, as its :class:`Role` says. Each worker is registered with the
    app's :class:`Wakeups`."""

    def __init__(
        self, *, service: str, database_url: str, wakeups: Wakeups, role: Role = Role.ALL
    ) -> None:
        self.service = service
        self.database_url = database_url
        self.wakeups = wakeups
        self.role = role
        self._workers: list[Worker] = []
        self._loops: list[_Loop] = []
        self._app: procrastinate.App | None = None
        self._task: asyncio.Task[None] | None = None
        self._watch: _WalWatch | None = None

    async def start(self, workers: Sequence[Worker]) -> None:
        self._workers = list(workers)
        if not self._workers:
            return
        loop = asyncio.get_running_loop()
        if uses_procrastinate(self.database_url):
            await self._start_procrastinate(loop)
        elif self.role is not Role.HANDOFF:  # on SQLite a hand-over is the committed row
            for worker in self._workers:
                runner = _Loop(worker, loop)
                worker._wake = runner.wake
                self._loops.append(runner)
                runner.start()
            if self.role is Role.WORKER:
                self._watch = _WalWatch(self.database_url, self._loops)
                self._watch.start()
        for worker in self._workers:
            self.wakeups.register(worker)
        log.info(
            "jobs.started",
            service=self.service,
            role=self.role.value,
            queues=[w.queue for w in self._workers],
        )

    async def _start_procrastinate(self, loop: asyncio.AbstractEventLoop) -> None:
        connector = procrastinate.PsycopgConnector(
            conninfo=libpq_url(self.database_url), min_size=1, max_size=4
        )
        self._app = procrastinate.App(connector=connector)
        drains = [Drain(self._app, worker) for worker in self._workers]
        await self._app.open_async()
        for drain in drains:
            drain.bind(loop)
            drain.worker._wake = drain.wake
        if self.role is Role.HANDOFF:
            return  # the worker processes fetch what this one defers
        self._task = asyncio.create_task(
            self._app.run_worker_async(
                name=self.service,
                concurrency=max(2, len(drains)),
                wait=True,
                install_signal_handlers=False,
                listen_notify=True,
                delete_jobs="successful",
            ),
            name=f"procrastinate-{self.service}",
        )
        for drain in drains:
            await drain.defer()  # whatever was left by the previous process

    async def stop(self) -> None:
        for worker in self._workers:
            self.wakeups.unregister(worker)
            worker._wake = None
        if self._watch is not None:
            await self._watch.stop()
            self._watch = None
        for runner in self._loops:
            await runner.stop()
        self._loops = []
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._task, timeout=10)
            self._task = None
        if self._app is not None:
            await self._app.close_async()
            self._app = None
