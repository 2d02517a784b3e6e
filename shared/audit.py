"""Tamper-evident audit: each service's change log, sealed into a keyed hash chain.

A state change appends a row to the service's log in the transaction that makes it (who,
when, what, before and after). Appending costs nothing more than the insert: no lock on a
chain head in the request path. A sealer then takes the rows nobody has sealed yet, in the
order they were written, and gives each the next place in the chain: ``chain_seq``, the
previous link's hash and its own, an HMAC-SHA256 over the row's content, its place and
that previous hash. Sealing runs in one transaction at a time (PostgreSQL: an advisory
lock, so replicas take turns; SQLite: writers queue anyway).

Changing a sealed row's content, deleting a sealed row, or re-ordering rows breaks the
chain at that place, and ``verify`` names the first broken link. The key is derived from
the service's private signing key, so someone who can write to the database but not read
the service's secrets cannot re-compute the hashes after an edit. What the chain cannot
show on its own is the newest rows cut off the end: keep the head ``verify`` prints (it
is small) somewhere else now and then.
"""

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any
from uuid import UUID

import sqlalchemy as sa
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import Field, SQLModel

from shared.clock import utcnow
from shared.db import JSONType, UTCDateTime
from shared.jobs import Worker

log = structlog.get_logger("audit")

# Column names whose values never go into the log, only the fact they changed.
SENSITIVE_MARKERS = ("password", "secret", "token")
REDACTED = "[redacted]"
GENESIS = "0" * 64


def jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID | Decimal):
        return str(value)
    return value


def canonical(value: Any) -> bytes:
    return json.dumps(
        jsonable(value), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    ).encode()


def _shown(key: str, value: Any) -> Any:
    return REDACTED if any(m in key for m in SENSITIVE_MARKERS) else jsonable(value)


def changes_of(
    entity: Any, *, created: bool = False
) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """(before, after) of an ORM object's columns as they stand unflushed in its session:
    a new object (or one ``created`` in this transaction, even if flushed) is (None, every
    column); a loaded one, only the columns that changed."""
    state = sa.inspect(entity)
    columns = [attr.key for attr in state.mapper.column_attrs]
    if created or state.transient or state.pending:
        return None, {key: _shown(key, getattr(entity, key)) for key in columns}
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for key in columns:
        history = state.attrs[key].history
        if not history.has_changes():
            continue
        before[key] = _shown(key, history.deleted[0] if history.deleted else None)
        after[key] = _shown(key, history.added[0] if history.added else None)
    return before, after


class AuditLogColumns(SQLModel):
    """The columns of every service's ``audit_log``: each service declares its table as
    ``class AuditEntry(AuditLogColumns, <ServiceModel>, table=True)`` in its own metadata."""

    id: int | None = Field(default=None, primary_key=True)
    occurred_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor: str = Field(max_length=200)
    action: str = Field(max_length=50)
    entity_type: str = Field(max_length=50)
    entity_id: str = Field(max_length=64, index=True)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    # Before and after of the columns the change touched (all of them for a new record).
    before: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    after: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    # The tamper-evident chain: empty until the sealer reaches the row.
    chain_seq: int | None = Field(default=None, sa_type=sa.BigInteger, unique=True)
    prev_hash: str | None = Field(default=None, max_length=64)
    chain_hash: str | None = Field(default=None, max_length=64)


# The columns of an ``audit_log`` row the chain covers.
AUDIT_LOG_CONTENT = (
    "id",
    "occurred_at",
    "actor",
    "action",
    "entity_type",
    "entity_id",
    "detail",
    "before",
    "after",
)


def audit_row(
    model: Any,
    *,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str,
    detail: Mapping[str, Any] | None = None,
    entity: Any = None,
    created: bool = False,
) -> Any:
    """A new ``audit_log`` row of ``model``; with ``entity`` (the ORM object changed, not
    yet flushed) its columns' before and after go with it (all of them when ``created``)."""
    before, after = changes_of(entity, created=created) if entity is not None else (None, None)
    return model(
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        detail=jsonable(detail or {}),
        before=before,
        after=after,
    )


def append(
    session: AsyncSession,
    model: Any,
    *,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str,
    detail: Mapping[str, Any] | None = None,
    entity: Any = None,
    created: bool = False,
) -> None:
    """Append to the service's audit log (``model``), in the session's transaction: the
    change and its record commit or roll back together."""
    session.add(
        audit_row(
            model,
            actor=actor,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            detail=detail,
            entity=entity,
            created=created,
        )
    )


def audit_log_chain(model: Any, key: bytes) -> "AuditChain":
    """The chain of a service's ``audit_log`` table (:class:`AuditLogColumns`)."""
    return AuditChain(model.__table__, order_by="id", content=AUDIT_LOG_CONTENT, key=key)


def chain_key(keys_dir: Path, issuer: str) -> bytes:
    """The service's sealing key, derived from its private signing key."""
    secret = (keys_dir / f"{issuer}.pem").read_bytes()
    return hashlib.sha256(b"picidai audit chain\x00" + secret).digest()


@dataclass(frozen=True)
class BrokenLink:
    seq: int
    row_id: str
    reason_zh: str
    reason_en: str


@dataclass(frozen=True)
class ChainReport:
    table: str
    sealed: int
    unsealed: int
    head_seq: int
    head_hash: str
    broken: BrokenLink | None

    @property
    def intact(self) -> bool:
        return self.broken is None

    def text(self) -> str:
        if self.broken is not None:
            b = self.broken
            return (
                f"{self.table}: 链条在第 {b.seq} 环断开（记录 {b.row_id}）：{b.reason_zh}\n"
                f"{self.table}: BROKEN at link {b.seq} (row {b.row_id}): {b.reason_en}"
            )
        return (
            f"{self.table}: 完整 intact — {self.sealed} sealed, {self.unsealed} not yet sealed; "
            f"head {self.head_seq} {self.head_hash}"
        )


class AuditChain:
    """One sealed log: ``table``, ordered for sealing by ``order_by``; ``content`` names the
    columns the hash covers."""

    def __init__(
        self, table: sa.Table, *, order_by: str, content: Sequence[str], key: bytes
    ) -> None:
        self.table = table
        self.order_by = table.c[order_by]
        self.content = tuple(content)
        self._key = key

    def digest(self, seq: int, prev_hash: str, row: Mapping[str, Any]) -> str:
        body = {"seq": seq, "prev": prev_hash, "row": {c: row[c] for c in self.content}}
        return hmac.new(self._key, canonical(body), hashlib.sha256).hexdigest()

    async def _take_turn(self, session: AsyncSession) -> bool:
        if session.get_bind().dialect.name != "postgresql":
            return True  # SQLite: this transaction began IMMEDIATE, writers already queue
        taken = await session.scalar(
            sa.select(sa.func.pg_try_advisory_xact_lock(sa.func.hashtext(self.table.name)))
        )
        return bool(taken)

    async def _head(self, session: AsyncSession) -> tuple[int, str]:
        t = self.table
        row = (
            await session.execute(
                sa.select(t.c.chain_seq, t.c.chain_hash)
                .where(t.c.chain_seq.is_not(None))
                .order_by(t.c.chain_seq.desc())
                .limit(1)
            )
        ).first()
        return (int(row[0]), str(row[1])) if row is not None else (0, GENESIS)

    async def seal(self, session: AsyncSession, *, limit: int = 2000) -> int:
        """Seal up to ``limit`` rows, oldest first; how many. The caller commits. The
        unsealed rows are found through the unique index on ``chain_seq`` (its NULLs),
        without reading the sealed ones (checked with EXPLAIN over 300,000 rows)."""
        if not await self._take_turn(session):
            return 0
        t = self.table
        seq, prev = await self._head(session)
        rows = (
            (
                await session.execute(
                    sa.select(t).where(t.c.chain_seq.is_(None)).order_by(self.order_by).limit(limit)
                )
            )
            .mappings()
            .all()
        )
        if not rows:
            return 0
        key = self.order_by.key
        links = []
        for row in rows:
            seq += 1
            link = self.digest(seq, prev, row)
            links.append({"row_key": row[key], "seq": seq, "prev": prev, "link": link})
            prev = link
        await session.execute(
            sa.update(t)
            .where(self.order_by == sa.bindparam("row_key"), t.c.chain_seq.is_(None))
            .values(
                chain_seq=sa.bindparam("seq"),
                prev_hash=sa.bindparam("prev"),
                chain_hash=sa.bindparam("link"),
            ),
            links,
        )
        return len(links)

    async def verify(self, session: AsyncSession, *, chunk: int = 5000) -> ChainReport:
        """Walk the sealed rows in chain order; the first link that does not hold."""
        t = self.table
        seq, prev = 0, GENESIS
        broken: BrokenLink | None = None
        while broken is None:
            rows = (
                (
                    await session.execute(
                        sa.select(t).where(t.c.chain_seq > seq).order_by(t.c.chain_seq).limit(chunk)
                    )
                )
                .mappings()
                .all()
            )
            if not rows:
                break
            broken, seq, prev = self._walk(rows, seq, prev)
        unsealed = await session.scalar(
            sa.select(sa.func.count()).select_from(t).where(t.c.chain_seq.is_(None))
        )
        return ChainReport(
            table=t.name,
            sealed=seq,
            unsealed=int(unsealed or 0),
            head_seq=seq,
            head_hash=prev,
            broken=broken,
        )

    def _walk(
        self, rows: Iterable[Mapping[str, Any]], seq: int, prev: str
    ) -> tuple[BrokenLink | None, int, str]:
        key = self.order_by.key
        for row in rows:
            expected = seq + 1
            if row["chain_seq"] != expected:
                reason = (f"第 {expected} 环缺失（记录被删除）", "link missing (deleted)")
            elif row["prev_hash"] != prev:
                reason = ("与前一环不相连", "does not follow the link before it")
            elif row["chain_hash"] != self.digest(expected, prev, row):
                reason = ("记录内容被改动", "the row's content was changed")
            else:
                seq, prev = expected, row["chain_hash"]
                continue
            return BrokenLink(expected, str(row[key]), *reason), seq, prev
        return None, seq, prev


class AuditSealer(Worker):
    """Seals each chain of the service, as a background worker (shared/jobs.py) looking
    every ``interval`` seconds."""

    def __init__(
        self,
        chains: Sequence[AuditChain],
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        service: str = "service",
        interval: float = 1.0,
    ) -> None:
        self.chains = chains
        self._sessionmaker = sessionmaker
        self.queue = f"{service}.audit"
        self.interval = interval

    async def seal_once(self) -> int:
        sealed = 0
        for chain in self.chains:
            while True:
                async with self._sessionmaker() as session, session.begin():
                    count = await chain.seal(session)
                sealed += count
                if count == 0:
                    break
        if sealed:
            log.debug("audit.sealed", rows=sealed)
        return sealed

    async def step(self) -> int:
        # Everything unsealed is sealed in one step: nothing is left for a second one.
        await self.seal_once()
        return 0
