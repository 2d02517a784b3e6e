"""Every query of guarantees in force."""

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.guarantee.models import (
    Assessment,
    ExposureDelta,
    ExposureSummary,
    ExposureTotal,
    Guarantee,
)
from shared import tallies
from shared.db import dialect_insert

_guarantees: sa.Table = Guarantee.__table__  # type: ignore[attr-defined]


async def guarantee_for_loan(
    *, session: AsyncSession, loan_id: uuid.UUID, for_update: bool = False
) -> Guarantee | None:
    query = select(Guarantee).where(Guarantee.loan_id == loan_id)
    if for_update:
        query = query.with_for_update()
    result = await session.execute(query.execution_options(populate_existing=True))
    return result.scalar_one_or_none()


async def guarantees_by_loan(
    *, session: AsyncSession, loan_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Guarantee]:
    result = await session.execute(select(Guarantee).where(col(Guarantee.loan_id).in_(loan_ids)))
    return {g.loan_id: g for g in result.scalars().all()}


async def guarantee_for_application(
    *, session: AsyncSession, application_id: uuid.UUID
) -> Guarantee | None:
    query = select(Guarantee).where(Guarantee.application_id == application_id)
    return (await session.execute(query)).scalars().first()


async def guarantees_collected_between(
    *, session: AsyncSession, first_day: date, last_day: date
) -> Sequence[Guarantee]:
    """Guarantees that may hold a fee receipt between the days (disbursed by the last one);
    the receipts' days are read from each."""
    result = await session.execute(select(Guarantee).where(Guarantee.disbursed_on <= last_day))
    return [g for g in result.scalars().all() if g.fee_collections]


async def assessment_for_application(
    *, session: AsyncSession, application_id: uuid.UUID
) -> Assessment | None:
    result = await session.execute(
        select(Assessment).where(Assessment.application_id == application_id)
    )
    return result.scalar_one_or_none()


async def guaranteed_volume(*, session: AsyncSession, batch_id: uuid.UUID) -> int:
    """Principal of every guarantee issued in the batch, in fen."""
    total = await session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(_guarantees.c.principal_fen), 0)).where(
            _guarantees.c.batch_id == batch_id
        )
    )
    return int(total or 0)


_totals = ExposureTotal.__table__  # type: ignore[attr-defined]
_deltas = ExposureDelta.__table__  # type: ignore[attr-defined]
_summaries = ExposureSummary.__table__  # type: ignore[attr-defined]


async def exposure(
    *, session: AsyncSession, group: str, offset: int, limit: int
) -> tuple[list[tuple[str, int, int]], tuple[int, int, int]]:
    """在保余额 of guarantees in force (outstanding > 0) per key of ``group``, largest first:
    (rows of (key, guarantees, outstanding fen), (keys, guarantees, outstanding fen) overall).
    Read from the kept totals, the changes since folded in first (:func:`fold_exposure`)."""
    await fold_exposure(session=session)
    kept = sa.and_(_totals.c.group_kind == group, _totals.c.guarantees > 0)
    rows = await session.execute(
        sa.select(_totals.c.key, _totals.c.guarantees, _totals.c.outstanding_fen)
        .where(kept)
        .order_by(_totals.c.outstanding_fen.desc(), _totals.c.key.desc())
        .offset(offset)
        .limit(limit)
    )
    summary = (
        await session.execute(
            sa.select(
                _summaries.c["keys"], _summaries.c.guarantees, _summaries.c.outstanding_fen
            ).where(_summaries.c.group_kind == group)
        )
    ).first()
    totals = summary or (0, 0, 0)
    as_key = _uuid_text if group in ("batch", "policy_version") else str
    return (
        [(as_key(key), int(n), int(fen)) for key, n, fen in rows.all()],
        (int(totals[0]), int(totals[1]), int(totals[2])),
    )


async def fold_exposure(*, session: AsyncSession) -> int:
    """Fold the moves the triggers appended (``ExposureDelta``) into the totals and each
    group's summary: one folder at a time (on SQLite the writer already is), the moves taken
    with ``DELETE … RETURNING`` (shared/tallies.py says why). How many totals moved."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext("exposure fold")))
        )
    taken = await session.execute(
        sa.delete(_deltas).returning(
            _deltas.c.group_kind, _deltas.c.key, _deltas.c.guarantees, _deltas.c.outstanding_fen
        )
    )
    summed = tallies.add_up(((tuple(r[:2]), r[2:]) for r in taken.all()), 1, {})
    moves = [
        {"group_kind": g, "key": k, "guarantees": n, "outstanding_fen": fen}
        for (g, k), (n, fen) in sorted(summed.items())
    ]
    if not moves:
        return 0
    before = await _counts_before(session, moves)
    await tallies.move_sums(
        session, _totals, ("group_kind", "key"), ("guarantees", "outstanding_fen"), summed
    )
    await _move_summaries(session, moves, before)
    return len(moves)


async def _counts_before(session: AsyncSession, moves: Sequence[Any]) -> dict[tuple[str, str], int]:
    """The guarantees in force of each moved key before the fold (absent: none)."""
    found: dict[tuple[str, str], int] = {}
    for group in {m["group_kind"] for m in moves}:
        keys = [m["key"] for m in moves if m["group_kind"] == group]
        rows = await session.execute(
            sa.select(_totals.c.key, _totals.c.guarantees).where(
                _totals.c.group_kind == group, _totals.c.key.in_(keys)
            )
        )
        found.update({(group, key): int(n) for key, n in rows.all()})
    return found


async def _move_summaries(
    session: AsyncSession, moves: Sequence[Any], before: dict[tuple[str, str], int]
) -> None:
    changes: dict[str, list[int]] = {}
    for m in moves:
        old = before.get((m["group_kind"], m["key"]), 0)
        new = old + int(m["guarantees"])
        change = changes.setdefault(m["group_kind"], [0, 0, 0])
        change[0] += (new > 0) - (old > 0)
        change[1] += int(m["guarantees"])
        change[2] += int(m["outstanding_fen"])
    insert = dialect_insert(session, _summaries)
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=[_summaries.c.group_kind],
            set_={
                "keys": _summaries.c["keys"] + insert.excluded["keys"],
                "guarantees": _summaries.c.guarantees + insert.excluded.guarantees,
                "outstanding_fen": _summaries.c.outstanding_fen + insert.excluded.outstanding_fen,
            },
        ),
        [
            {"group_kind": g, "keys": k, "guarantees": n, "outstanding_fen": fen}
            for g, (k, n, fen) in changes.items()
        ],
    )


def _uuid_text(stored: str) -> str:
    # SQLite keeps a uuid as 32 hex digits, PostgreSQL's text has hyphens: one spelling out.
    return str(uuid.UUID(stored))


async def outstanding_of_firms(*, session: AsyncSession, usccs: list[str]) -> dict[str, int]:
    """在保余额 (fen) of each firm that has any."""
    result = await session.execute(
        sa.select(_guarantees.c.enterprise_uscc, sa.func.sum(_guarantees.c.outstanding_fen))
        .where(_guarantees.c.enterprise_uscc.in_(usccs))
        .group_by(_guarantees.c.enterprise_uscc)
    )
    return {uscc: int(fen or 0) for uscc, fen in result.all()}


async def guarantees_of_enterprise(*, session: AsyncSession, uscc: str) -> Sequence[Guarantee]:
    """Every guarantee of the firm, in force first, newest first."""
    result = await session.execute(
        select(Guarantee)
        .where(Guarantee.enterprise_uscc == uscc)
        .order_by((Guarantee.outstanding_fen > 0).desc(), Guarantee.disbursed_on.desc())
    )
    return result.scalars().all()


def add(session: AsyncSession, guarantee: Guarantee) -> None:
    session.add(guarantee)
