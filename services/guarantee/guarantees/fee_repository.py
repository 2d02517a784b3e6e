"""Every query of the kept fee sums (``fee_dues``, ``fee_sums``, ``fee_marks``: migration
0015, shared/tallies.py)."""

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.guarantee.guarantees.fee_sums import (
    SUM_KEYS,
    SUM_VALUES,
    counted_in,
    dues_of,
)
from services.guarantee.models import FeeDue, FeeMark, FeeSum, Guarantee
from shared import tallies

_dues: sa.Table = FeeDue.__table__  # type: ignore[attr-defined]
_sums: sa.Table = FeeSum.__table__  # type: ignore[attr-defined]
_marks: sa.Table = FeeMark.__table__  # type: ignore[attr-defined]
_COUNTED = (
    _dues.c.due,
    _dues.c.bank_code,
    _dues.c.enterprise_uscc,
    _dues.c.fee_fen,
    _dues.c.subsidy_fen,
)


def _counted(rows: Iterable[Sequence[Any]]) -> Iterable[tuple[tallies.Key, tuple[int, int, int]]]:
    for due, bank, uscc, fee, subsidy in rows:
        yield from counted_in(due, bank, uscc, int(fee), int(subsidy))


async def settle(*, session: AsyncSession) -> int:
    """Bring the fee periods and their sums up to date with every guarantee marked since
    the last settling. How many guarantees were settled."""
    marked = await tallies.take_marks(session, _marks, "guarantee_id", "fee sums")
    moves: dict[tallies.Key, list[int]] = {}
    for ids in tallies.chunks(marked):
        gone = await session.execute(
            sa.delete(_dues).where(_dues.c.guarantee_id.in_(ids)).returning(*_COUNTED)
        )
        tallies.add_up(_counted(gone.all()), -1, moves)
        found = await session.execute(select(Guarantee).where(col(Guarantee.id).in_(ids)))
        rows = [row for guarantee in found.scalars().all() for row in dues_of(guarantee)]
        if rows:
            await session.execute(sa.insert(_dues), rows)
        tallies.add_up(_counted([[r[c.name] for c in _COUNTED] for r in rows]), 1, moves)
    await tallies.move_sums(session, _sums, SUM_KEYS, SUM_VALUES, moves)
    return len(marked)


async def month_sums(
    *, session: AsyncSession, first_month: int, last_month: int
) -> dict[tuple[int, str], list[int]]:
    """(month as 202601, bank code) → [periods, fee fen, subsidy fen before the caps]."""
    result = await session.execute(
        sa.select(
            _sums.c.period, _sums.c.party, _sums.c.periods, _sums.c.fee_fen, _sums.c.subsidy_fen
        ).where(
            _sums.c.kind == "month",
            _sums.c.period.between(first_month, last_month),
            _sums.c.periods != 0,
        )
    )
    return {
        (month, bank): [int(n), int(fee), int(sub)] for month, bank, n, fee, sub in result.all()
    }


async def firms_over_smallest_cap(*, session: AsyncSession, years: Sequence[int]) -> list[str]:
    """The firms whose fee subsidies of one of the years, before any cap, exceed the
    smallest cap any guarantee holds: only their periods can lose subsidy to a cap."""
    smallest = await session.scalar(sa.select(sa.func.min(_dues.c.cap_fen)))
    if smallest is None:
        return []
    result = await session.execute(
        sa.select(_sums.c.party)
        .where(
            _sums.c.kind == "firm_year",
            _sums.c.period.in_(years),
            _sums.c.subsidy_fen > smallest,
        )
        .distinct()
    )
    return sorted(result.scalars().all())


async def dues_between(
    *, session: AsyncSession, first_day: date, last_day: date, usccs: Sequence[str] | None = None
) -> Sequence[FeeDue]:
    """The fee periods falling due between the days (of these firms only, if named)."""
    query = select(FeeDue).where(col(FeeDue.due).between(first_day, last_day))
    if usccs is not None:
        query = query.where(col(FeeDue.enterprise_uscc).in_(usccs))
    return (await session.execute(query)).scalars().all()
