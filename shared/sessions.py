"""Sessions and tokens that die (issue 14, item 4): every human token is confirmed with its
issuer per request, the answer cached for a few seconds.

- Signing out revokes the *session* (the ``sid`` every renewed cookie of one sign-in
  shares; a bank's token is its own session) in the issuer's ``revoked_sessions`` table.
- Deactivating a clerk or a bank ends all its sessions: the issuer answers "inactive" for
  any token of that account.
- Permissions are re-read: an approver whose right was withdrawn loses it at once.

The issuer answers from its own database (``local``); another service asks it over HTTP
(``POST /v1/sessions/status``, service tokens only) and fails closed — 503 — when the
issuer cannot be asked. Service tokens are not sessions (they die with their key).
"""

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import Field, SQLModel

from shared.auth import Principal, Role
from shared.clock import utcnow
from shared.contracts.sessions import SessionQuery, SessionState
from shared.db import UTCDateTime, dialect_insert
from shared.errors import ServiceUnavailable, Unauthenticated

LocalStatus = Callable[[Principal], Awaitable[SessionState]]


class RevokedSessionColumns(SQLModel):
    """A session ended before its tokens expire (kept until then)."""

    session: str = Field(primary_key=True, max_length=64)
    subject: str = Field(max_length=100)
    revoked_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)


# A session's tokens live at most this long (the console's idle limit is shorter): a
# revocation is kept until then, then swept.
REVOCATION_KEPT = timedelta(days=1)


async def revoke(db: AsyncSession, table: sa.Table, principal: Principal) -> None:
    """End ``principal``'s session, in the caller's transaction (its owner commits)."""
    if principal.session is None:
        return
    now = utcnow()
    await db.execute(sa.delete(table).where(table.c.expires_at < now))
    await db.execute(
        dialect_insert(db, table)
        .values(
            session=principal.session,
            subject=principal.subject[:100],
            revoked_at=now,
            expires_at=now + REVOCATION_KEPT,
        )
        .on_conflict_do_nothing(index_elements=[table.c.session])
    )


async def is_revoked(db: AsyncSession, table: sa.Table, session: str) -> bool:
    found = await db.execute(sa.select(table.c.session).where(table.c.session == session))
    return found.first() is not None


def query_of(principal: Principal) -> SessionQuery:
    return SessionQuery(
        session=principal.session or "",
        subject=principal.subject[:100],
        role=principal.role.value,
        tenant=principal.tenant,
        account=principal.account,
    )


def local_status(
    sessionmaker: async_sessionmaker[AsyncSession],
    answer: Callable[[AsyncSession, SessionQuery], Awaitable[SessionState]],
) -> LocalStatus:
    """The issuer's own check, each in a short read of its database."""

    async def status(principal: Principal) -> SessionState:
        async with sessionmaker() as db:
            return await answer(db, query_of(principal))

    return status


class SessionEnded(Unauthenticated):
    slug = "session-ended"
    title = "登录已失效，请重新登录 (session ended)"


class SessionGuard:
    CACHE_SIZE = 10_000

    def __init__(
        self,
        *,
        issuer: str,
        local: LocalStatus | None,
        issuers: dict[str, httpx.AsyncClient],
        cache_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._issuer = issuer
        self._local = local
        self._issuers = issuers
        self._ttl = cache_seconds
        self._clock = clock
        self._answers: OrderedDict[tuple[str, str], tuple[float, SessionState]] = OrderedDict()

    async def confirm(self, principal: Principal) -> Principal:
        """The principal as its issuer sees it now, or :class:`SessionEnded`."""
        if principal.role is Role.SERVICE or principal.session is None:
            return principal
        state = await self._state(principal)
        if not state.active:
            raise SessionEnded("登录已退出或账号已停用，请重新登录")
        changes: dict[str, object] = {}
        if state.permissions is not None:
            changes["permissions"] = frozenset(state.permissions)
        if state.name is not None:
            changes["name"] = state.name
        return replace(principal, **changes) if changes else principal

    def forget(self, principal: Principal) -> None:
        """Drop the cached answer (this replica just ended the session)."""
        self._answers.pop((principal.issuer, principal.session or ""), None)

    async def _state(self, principal: Principal) -> SessionState:
        key = (principal.issuer, principal.session or "")
        now = self._clock()
        cached = self._answers.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        state = await self._ask(principal)
        self._answers[key] = (now + self._ttl, state)
        self._answers.move_to_end(key)
        while len(self._answers) > self.CACHE_SIZE:
            self._answers.popitem(last=False)
        return state

    async def _ask(self, principal: Principal) -> SessionState:
        if principal.issuer == self._issuer and self._local is not None:
            return await self._local(principal)
        client = self._issuers.get(principal.issuer)
        if client is None:
            raise ServiceUnavailable(f"无法确认登录状态：未配置签发方 {principal.issuer}")
        query = query_of(principal)
        try:
            response = await client.post(
                "/v1/sessions/status",
                content=query.model_dump_json(),
                headers={"Content-Type": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(f"无法向签发方确认登录状态（{type(exc).__name__}）") from exc
        if response.status_code != 200:
            raise ServiceUnavailable(f"无法向签发方确认登录状态（HTTP {response.status_code}）")
        return SessionState.model_validate_json(response.content)
