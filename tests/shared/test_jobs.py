"""The worker base wakes a worker when work for it commits — not on a savepoint, never after
a rollback — and runs each worker's step in a loop of its own on SQLite."""

import asyncio
from pathlib import Path

import sqlalchemy as sa

from shared.db import make_engine, make_sessionmaker
from shared.jobs import Role, Wakeups, Worker, Workers, queue_work


class Counting(Worker):
    queue = "test.counting"
    interval = 60.0  # never by the clock in these tests: only when woken

    def __init__(self, work: int = 0) -> None:
        self.woken = 0
        self.steps = 0
        self.work = work

    def wake(self) -> None:
        self.woken += 1
        super().wake()

    async def step(self) -> int:
        self.steps += 1
        done, self.work = min(self.work, 1), max(self.work - 1, 0)
        return done


async def test_work_wakes_its_worker_once_its_transaction_commits(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'jobs.db'}")
    wakeups = Wakeups()
    sessionmaker = make_sessionmaker(engine, info=wakeups.session_info())
    worker = Counting()
    wakeups.register(worker)
    try:
        async with sessionmaker() as session, session.begin():
            await session.execute(sa.text("SELECT 1"))
            async with session.begin_nested():
                queue_work(session, worker.queue)
            assert worker.woken == 0  # a savepoint released: nothing committed yet
        assert worker.woken == 1

        async with sessionmaker() as session:
            await session.begin()
            queue_work(session, worker.queue)
            await session.rollback()
            await session.begin()
            await session.commit()  # the session's next transaction does not inherit it
        assert worker.woken == 1

        async with sessionmaker() as session, session.begin():
            queue_work(session, "test.nobody")  # no worker for it in this app: nothing
        assert worker.woken == 1
    finally:
        await engine.dispose()


async def test_a_woken_loop_steps_until_nothing_is_due(tmp_path: Path) -> None:
    wakeups = Wakeups()
    worker = Counting(work=3)
    workers = Workers(
        service="test", database_url=f"sqlite+aiosqlite:///{tmp_path / 'w.db'}", wakeups=wakeups
    )
    await workers.start([worker])
    try:
        for _ in range(100):
            if worker.work == 0 and worker.steps >= 4:
                break
            await asyncio.sleep(0.01)
        assert (worker.work, worker.steps) == (0, 4)  # three with work, one that found none
        worker.work = 2
        wakeups.wake(worker.queue)
        for _ in range(100):
            if worker.steps >= 7:
                break
            await asyncio.sleep(0.01)
        assert (worker.work, worker.steps) == (0, 7)
    finally:
        await workers.stop()
    wakeups.wake(worker.queue)  # stopped: unregistered, nothing happens
    assert worker.woken == 1


async def test_a_worker_process_on_sqlite_is_woken_by_another_process_commit(
    tmp_path: Path,
) -> None:
    """In the worker role nothing is woken by this process's sessions for serve's work: the
    loops step when the database's write-ahead log changes — here, by another engine (as
    ``serve`` would commit), with the worker's own clock an hour away."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    other = make_engine(url)  # the serving process's engine
    async with other.begin() as connection:
        await connection.execute(sa.text("CREATE TABLE work (id INTEGER PRIMARY KEY)"))
    worker = Counting()
    worker.interval = 3600.0
    workers = Workers(service="test", database_url=url, wakeups=Wakeups(), role=Role.WORKER)
    await workers.start([worker])
    try:
        await asyncio.sleep(0.5)
        before = worker.steps  # the first look, on start
        await asyncio.sleep(0.5)
        assert worker.steps == before  # nothing committed: nothing stepped
        async with other.begin() as connection:
            await connection.execute(sa.text("INSERT INTO work DEFAULT VALUES"))
        for _ in range(100):
            if worker.steps > before:
                break
            await asyncio.sleep(0.02)
        assert worker.steps > before
    finally:
        await workers.stop()
        await other.dispose()
