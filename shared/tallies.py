"""Sums kept as their rows change, not summed over everything on every view (issue 17).

A report that adds up every loan of a city reads a million rows per view. Instead a service
keeps, per *source* (a guarantee, a loan), the *items* the report adds up (its fee periods,
its months of 贴息), and per key the *sums* of those items. Database triggers *mark* a source
whenever it changes — so every writer (a filing, a repayment, a release, a migration) is
covered without remembering to — and a report first *settles*: it takes the marks,
recomputes the marked sources' items and moves the sums by the difference.

Only a settler writes the sums, one at a time (an advisory lock on PostgreSQL; SQLite has a
single writer), so a writer of a source never waits on a sum's row or deadlocks over two.
Marks are taken with ``DELETE … RETURNING``: exactly the marks the settler saw are gone, and
a mark committed a moment later stays for the next settler (a ``max(id)`` read followed by a
``DELETE … WHERE id <= max`` would lose a mark whose transaction committed in between).
"""

import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import dialect_insert

Key = tuple[Any, ...]


async def take_marks(
    session: AsyncSession, marks: sa.Table, column: str, lock: str
) -> list[uuid.UUID]:
    """The marked sources (each once, in order), their marks deleted; the caller settles
    them in this transaction. Waits for another settler of ``lock`` to finish first."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(lock))))
    taken = await session.execute(sa.delete(marks).returning(marks.c[column]))
    return sorted(set(taken.scalars()))


def add_up(
    rows: Iterable[tuple[Key, Sequence[int]]], sign: int, into: dict[Key, list[int]]
) -> dict[Key, list[int]]:
    """``into`` moved by each row's values (× ``sign``) under its key."""
    for key, values in rows:
        total = into.setdefault(key, [0] * len(values))
        for i, value in enumerate(values):
            total[i] += sign * value
    return into


async def move_sums(
    session: AsyncSession,
    sums: sa.Table,
    keys: Sequence[str],
    values: Sequence[str],
    moves: Mapping[Key, Sequence[int]],
) -> int:
    """Add each move to its sum's row (a new key starts from zero). How many rows moved."""
    rows = [
        dict(zip(keys, key, strict=True)) | dict(zip(values, move, strict=True))
        for key, move in sorted(moves.items())
        if any(move)
    ]
    if rows:
        insert = dialect_insert(session, sums)
        await session.execute(
            insert.on_conflict_do_update(
                index_elements=[sums.c[k] for k in keys],
                set_={v: sums.c[v] + insert.excluded[v] for v in values},
            ),
            rows,
        )
    return len(rows)


def chunks(ids: Sequence[uuid.UUID], size: int = 500) -> Iterable[Sequence[uuid.UUID]]:
    """The ids a few hundred at a time (one ``IN`` list per statement)."""
    for start in range(0, len(ids), size):
        yield ids[start : start + size]
