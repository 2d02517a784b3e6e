"""Who is counted, and how: failed sign-ins and registrations, throttled per key in the
service's own database, so every replica counts the same failures.

Why the database and not Redis: each service already has one that all its replicas share
(PostgreSQL in production), a throttle row costs one upsert per *failure* (successes cost
one indexed read), and a second store would be one more thing to run, secure and lose.
Memory stays bounded whatever a flood sends — rows live on disk and old ones are swept.

The rules (docs/security.md, "Who is counted"):

- a password sign-in is throttled per (account, address): five failures, then a wait that
  doubles with each further one (30 s … 15 min). A stranger elsewhere never locks the
  account out; the person at their own address is not held up by someone else's guessing;
- one address guessing many accounts is stopped after twenty failures in fifteen minutes;
- an OAuth client secret (high entropy, nothing to guess) is throttled by address only;
- registrations are limited per address (successes count too).

On SQLite a writer holds the database until it commits, so a count made while the request's
own transaction is open is made *in* it (``session=``: a success, a registration); a failure
is counted after the caller rolled its transaction back (nothing of a failure is kept).

Accounts are keyed by :func:`account_key` — the one case rule the sign-ins also look the
account up by — so ``ﬀ`` and ``FF`` are one account to the counter as they are to the login.
"""

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import Field, SQLModel

from shared.clock import utcnow
from shared.db import UTCDateTime, dialect_insert
from shared.errors import AppError


class TooManyAttempts(AppError):
    status, slug = 429, "too-many-attempts"
    title = "尝试次数过多，请稍后再试 (too many attempts)"


def account_key(raw: str) -> str:
    """The account a typed identifier names: NFKC-normalised, trimmed, case-folded. Sign-ins
    look accounts up by a function of this key, so the counter and the login agree."""
    return unicodedata.normalize("NFKC", raw).strip().casefold()


@dataclass(frozen=True)
class Rule:
    """``limit`` events within ``window`` of the first, then a wait of ``base`` doubling per
    further event up to ``cap`` (``base == cap``: a fixed wait)."""

    name: str
    limit: int
    window: timedelta
    base: timedelta
    cap: timedelta

    def wait(self, count: int) -> timedelta:
        over = count - self.limit
        return min(self.cap, self.base * (2 ** min(over, 20)))


PAIR = Rule("pair", 5, timedelta(minutes=15), timedelta(seconds=30), timedelta(minutes=15))
ADDRESS = Rule("address", 20, timedelta(minutes=15), timedelta(minutes=15), timedelta(minutes=15))
REGISTRATION = Rule("register", 5, timedelta(hours=1), timedelta(hours=1), timedelta(hours=1))


class ThrottleColumns(SQLModel):
    """One counted key: how many events since ``window_start``, blocked until when."""

    key: str = Field(primary_key=True, max_length=300)
    count: int = 0
    window_start: datetime = Field(sa_type=UTCDateTime, index=True)
    blocked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Attempts:
    # Sweep rows older than two windows on every this-many-th counted event (per process).
    SWEEP_EVERY = 200

    def __init__(
        self,
        table: sa.Table,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._table = table
        self._sessionmaker = sessionmaker
        self._clock = clock
        self._counted = 0

    # --- the three uses -----------------------------------------------------------------

    async def check_sign_in(self, *, account: str, address: str) -> None:
        await self._check([_key(PAIR, account_key(account), address), _key(ADDRESS, address)])

    async def failed_sign_in(self, *, account: str, address: str) -> None:
        await self._count(PAIR, _key(PAIR, account_key(account), address))
        await self._count(ADDRESS, _key(ADDRESS, address))

    async def succeeded_sign_in(self, session: AsyncSession, *, account: str, address: str) -> None:
        """Clear the pair's count, in the sign-in's own transaction."""
        key = _key(PAIR, account_key(account), address)
        await session.execute(sa.delete(self._table).where(self._table.c.key == key))

    async def check_client(self, *, address: str) -> None:
        """OAuth client credentials: by address only (a secret has nothing to guess at)."""
        await self._check([_key(ADDRESS, address)])

    async def failed_client(self, *, address: str) -> None:
        await self._count(ADDRESS, _key(ADDRESS, address))

    async def check_registration(self, *, address: str) -> None:
        await self._check([_key(REGISTRATION, address)])

    async def registered(self, session: AsyncSession, *, address: str) -> None:
        """Count a registration in the registration's transaction: both commit, or neither."""
        await self._count(REGISTRATION, _key(REGISTRATION, address), session=session)

    # --- the store ----------------------------------------------------------------------

    async def _check(self, keys: list[str]) -> None:
        """Raise :class:`TooManyAttempts` (with Retry-After) while any key is blocked."""
        now = self._clock()
        t = self._table
        async with self._sessionmaker() as session:
            rows = await session.execute(
                sa.select(sa.func.max(t.c.blocked_until)).where(
                    t.c.key.in_(keys), t.c.blocked_until > now
                )
            )
            until = rows.scalar()
        if until is None:
            return
        seconds = int((until - now).total_seconds()) + 1
        wait = f"约 {max(seconds // 60, 1)} 分钟" if seconds >= 60 else f"{seconds} 秒"
        raise TooManyAttempts(
            f"尝试次数过多，请{wait}后再试", headers={"Retry-After": str(seconds)}
        )

    async def _count(self, rule: Rule, key: str, *, session: AsyncSession | None = None) -> None:
        """One more event for ``key``: an atomic upsert (replicas race safely), then the
        block its count earns. In ``session`` if given (its owner commits), else alone."""
        if session is not None:
            await self._count_in(session, rule, key)
            return
        async with self._sessionmaker() as own, own.begin():
            await self._count_in(own, rule, key)

    async def _count_in(self, session: AsyncSession, rule: Rule, key: str) -> None:
        now = self._clock()
        t = self._table
        stale = t.c.window_start < now - rule.window
        upsert = dialect_insert(session, t).values(key=key, count=1, window_start=now)
        upsert = upsert.on_conflict_do_update(
            index_elements=[t.c.key],
            set_={
                "count": sa.case((stale, 1), else_=t.c.count + 1),
                "window_start": sa.case((stale, now), else_=t.c.window_start),
            },
        )
        await session.execute(upsert)
        count = (await session.execute(sa.select(t.c.count).where(t.c.key == key))).scalar()
        if count is not None and count >= rule.limit:
            until = now + rule.wait(count)
            await session.execute(sa.update(t).where(t.c.key == key).values(blocked_until=until))
        self._counted += 1
        if self._counted % self.SWEEP_EVERY == 0:
            await self._sweep(session, now)

    async def _sweep(self, session: AsyncSession, now: datetime) -> None:
        t = self._table
        oldest = max(r.window + r.cap for r in (PAIR, ADDRESS, REGISTRATION))
        await session.execute(
            sa.delete(t).where(
                t.c.window_start < now - oldest,
                sa.or_(t.c.blocked_until.is_(None), t.c.blocked_until < now),
            )
        )


def _key(rule: Rule, *parts: str) -> str:
    # Bounded: a key is at most the column's length whatever a client sends.
    return "|".join([rule.name, *(p[:120] for p in parts)])
