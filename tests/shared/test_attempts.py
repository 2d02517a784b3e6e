"""Who is counted (issue 14, item 1): backoff per (account, address), a limit per address,
registrations per address, counts shared by replicas through the database."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from services.bank_gateway.models import ThrottleEntry
from shared.attempts import Attempts, TooManyAttempts, account_key
from shared.db import make_engine, make_sessionmaker
from tests.conftest import Databases

TABLE: sa.Table = ThrottleEntry.__table__  # type: ignore[attr-defined]


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture(scope="module")
def throttle_db(databases: Databases) -> str:
    return databases.new("throttle", migrate="bank_gateway")


@pytest.fixture
async def replicas(throttle_db: str) -> AsyncIterator[tuple[Attempts, Attempts, Clock]]:
    """Two replicas of a service: two engines on one database, one clock."""
    clock = Clock()
    engines = [make_engine(throttle_db), make_engine(throttle_db)]
    first, second = (Attempts(TABLE, make_sessionmaker(e), clock=clock) for e in engines)
    async with engines[0].begin() as connection:
        await connection.execute(sa.delete(TABLE))
    yield first, second, clock
    for engine in engines:
        await engine.dispose()


async def refused(check: object) -> int:
    with pytest.raises(TooManyAttempts) as error:
        await check  # type: ignore[misc]
    assert error.value.status == 429
    return int(error.value.headers["Retry-After"])


async def test_a_stranger_cannot_lock_an_account_and_the_guesser_waits_longer_each_time(
    replicas: tuple[Attempts, Attempts, Clock],
) -> None:
    attempts, _, clock = replicas
    for _ in range(5):
        await attempts.check_sign_in(account="alice", address="203.0.113.9")
        await attempts.failed_sign_in(account="alice", address="203.0.113.9")
    assert await refused(attempts.check_sign_in(account="alice", address="203.0.113.9")) == 31
    # Alice at her own desk is not held up by someone else's guessing.
    await attempts.check_sign_in(account="alice", address="198.51.100.7")
    clock.advance(31)
    await attempts.failed_sign_in(account="alice", address="203.0.113.9")
    assert await refused(attempts.check_sign_in(account="alice", address="203.0.113.9")) == 61
    clock.advance(61)
    await attempts.failed_sign_in(account="alice", address="203.0.113.9")
    assert await refused(attempts.check_sign_in(account="alice", address="203.0.113.9")) == 121
    for _ in range(12):  # the wait stops doubling at fifteen minutes
        await attempts.failed_sign_in(account="alice", address="203.0.113.9")
    assert await refused(attempts.check_sign_in(account="alice", address="203.0.113.9")) == 901
    async with attempts._sessionmaker() as session, session.begin():
        await attempts.succeeded_sign_in(session, account="alice", address="203.0.113.9")
    await attempts.check_sign_in(account="alice", address="203.0.113.9")


async def test_one_address_guessing_many_accounts_is_stopped_and_others_are_not(
    replicas: tuple[Attempts, Attempts, Clock],
) -> None:
    attempts, _, clock = replicas
    for i in range(20):
        await attempts.failed_sign_in(account=f"user{i}", address="203.0.113.50")
    await refused(attempts.check_sign_in(account="someone-new", address="203.0.113.50"))
    await attempts.check_sign_in(account="someone-new", address="203.0.113.51")
    clock.advance(15 * 60 + 1)
    await attempts.check_sign_in(account="someone-new", address="203.0.113.50")


async def test_replicas_count_the_same_failures(
    replicas: tuple[Attempts, Attempts, Clock],
) -> None:
    first, second, _ = replicas
    for i in range(5):
        replica = first if i % 2 else second
        await replica.failed_sign_in(account="bob", address="203.0.113.60")
    await refused(first.check_sign_in(account="bob", address="203.0.113.60"))
    await refused(second.check_sign_in(account="bob", address="203.0.113.60"))


async def test_failures_arriving_together_are_all_counted(
    replicas: tuple[Attempts, Attempts, Clock],
) -> None:
    first, second, _ = replicas
    await asyncio.gather(
        *(
            (first if i % 2 else second).failed_sign_in(account=f"u{i}", address="203.0.113.70")
            for i in range(20)
        )
    )
    await refused(first.check_sign_in(account="another", address="203.0.113.70"))


async def test_one_case_rule_for_account_keys(replicas: tuple[Attempts, Attempts, Clock]) -> None:
    attempts, _, _ = replicas
    # "ﬀ" (one ligature character) is "FF" to a login that upper-cases: so to the counter.
    assert account_key("9131ﬀ") == account_key("9131FF ") == account_key("９１３１ff")
    spellings = ["9131ﬀ", "9131FF", "9131ff", " 9131Ff", "９１３１FF"]
    for spelling in spellings:
        await attempts.failed_sign_in(account=spelling, address="203.0.113.80")
    await refused(attempts.check_sign_in(account="9131FF", address="203.0.113.80"))


async def test_a_client_secret_is_limited_by_address_only(
    replicas: tuple[Attempts, Attempts, Clock],
) -> None:
    attempts, _, _ = replicas
    for _ in range(19):
        await attempts.failed_client(address="203.0.113.90")
    await attempts.check_client(address="203.0.113.90")
    await attempts.failed_client(address="203.0.113.90")
    await refused(attempts.check_client(address="203.0.113.90"))
    await attempts.check_client(address="203.0.113.91")


async def test_registrations_are_limited_per_address(
    replicas: tuple[Attempts, Attempts, Clock],
) -> None:
    attempts, _, clock = replicas
    for _ in range(5):
        await attempts.check_registration(address="203.0.113.100")
        async with attempts._sessionmaker() as session, session.begin():
            await attempts.registered(session, address="203.0.113.100")
    assert await refused(attempts.check_registration(address="203.0.113.100")) == 3601
    clock.advance(3601)
    await attempts.check_registration(address="203.0.113.100")


async def test_a_flood_of_addresses_is_swept_not_kept(
    replicas: tuple[Attempts, Attempts, Clock],
) -> None:
    attempts, _, clock = replicas
    attempts.SWEEP_EVERY = 10
    for i in range(9):
        await attempts.failed_client(address=f"192.0.2.{i}")
    clock.advance(2 * 3600 + 1)
    await attempts.failed_client(address="192.0.2.10")  # the tenth: sweeps the nine
    async with attempts._sessionmaker() as session:
        left = (await session.execute(sa.select(sa.func.count()).select_from(TABLE))).scalar()
    assert left == 1
