"""Every query of the kept 贴息 sums (``interest_months``, ``interest_open_loans``,
``interest_sums``, ``interest_marks``: migration 0016, shared/tallies.py)."""

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.bank_gateway.ledger import repository as ledger_repo
from services.bank_gateway.ledger.interest_subsidy import LoanLife
from services.bank_gateway.ledger.interest_sums import (
    SUM_KEYS,
    SUM_VALUES,
    as_month,
    counted_in,
    kept_months,
    life_of,
)
from services.bank_gateway.models import (
    Batch,
    BatchLoan,
    InterestMark,
    InterestMonth,
    InterestOpenLoan,
    InterestSum,
    PartnerBank,
)
from shared import tallies

_months: sa.Table = InterestMonth.__table__  # type: ignore[attr-defined]
_open: sa.Table = InterestOpenLoan.__table__  # type: ignore[attr-defined]
_sums: sa.Table = InterestSum.__table__  # type: ignore[attr-defined]
_marks: sa.Table = InterestMark.__table__  # type: ignore[attr-defined]


def _counted(rows: Iterable[Any]) -> Iterable[tuple[tallies.Key, tuple[int, ...]]]:
    for row in rows:
        _, month, bank, uscc, m = as_month(row)
        yield from counted_in(month, bank, uscc, m)


async def _lives(session: AsyncSession, where: Sequence[Any]) -> list[LoanLife]:
    """The lent loans (disbursed, not refused 备案) matching ``where``, as 贴息 sees them."""
    result = await session.execute(
        sa.select(BatchLoan, PartnerBank.code)
        .join(Batch, col(Batch.id) == col(BatchLoan.batch_id))
        .join(PartnerBank, col(PartnerBank.id) == col(Batch.bank_id))
        .where(
            col(BatchLoan.disbursed_on).is_not(None),
            BatchLoan.state != "unguaranteed",
            *where,
        )
    )
    loans = result.all()
    overdue = await ledger_repo.overdue_days(
        session=session, loan_ids={loan.id for loan, _ in loans}
    )
    return [life_of(loan, code, overdue.get(loan.id, [])) for loan, code in loans]


async def settle(*, session: AsyncSession) -> int:
    """Bring the loans' months and their sums up to date with every loan marked since the
    last settling. How many loans were settled."""
    marked = await tallies.take_marks(session, _marks, "loan_id", "interest sums")
    moves: dict[tallies.Key, list[int]] = {}
    for ids in tallies.chunks(marked):
        gone = await session.execute(
            sa.delete(_months).where(_months.c.loan_id.in_(ids)).returning(*_months.c)
        )
        tallies.add_up(_counted(gone.mappings().all()), -1, moves)
        await session.execute(sa.delete(_open).where(_open.c.loan_id.in_(ids)))
        rows, still_open = [], []
        for life in await _lives(session, [col(BatchLoan.id).in_(ids)]):
            kept, through = kept_months(life)
            rows += kept
            if through is not None:
                still_open.append({"loan_id": life.loan_id, "through_month": through})
        if rows:
            await session.execute(sa.insert(_months), rows)
        if still_open:
            await session.execute(sa.insert(_open), still_open)
        tallies.add_up(_counted(rows), 1, moves)
    await tallies.move_sums(session, _sums, SUM_KEYS, SUM_VALUES, moves)
    return len(marked)


async def month_sums(
    *, session: AsyncSession, first_month: int, last_month: int
) -> dict[tuple[int, str], list[int]]:
    """(month as 202601, bank code) → [repayments, interest, of it without 贴息, 贴息 before
    the caps] in fen."""
    result = await session.execute(
        sa.select(_sums.c.period, _sums.c.party, *(_sums.c[v] for v in SUM_VALUES)).where(
            _sums.c.kind == "month", _sums.c.period.between(first_month, last_month)
        )
    )
    return {
        (month, bank): [int(v) for v in values]
        for month, bank, *values in result.all()
        if any(values)
    }


async def firms_over_smallest_cap(*, session: AsyncSession, years: Sequence[int]) -> list[str]:
    """The firms whose 贴息 of one of the years, before any cap, exceeds the smallest cap
    any loan's months hold: only their months can lose 贴息 to a cap."""
    smallest = await session.scalar(sa.select(sa.func.min(_months.c.cap_fen)))
    if smallest is None:
        return []
    result = await session.execute(
        sa.select(_sums.c.party)
        .where(
            _sums.c.kind == "firm_year", _sums.c.period.in_(years), _sums.c.subsidy_fen > smallest
        )
        .distinct()
    )
    return sorted(result.scalars().all())


async def months_of_firms(
    *, session: AsyncSession, usccs: Sequence[str], first_month: int, last_month: int
) -> list[Any]:
    """The kept months of the firms' loans between the two months."""
    result = await session.execute(
        sa.select(_months).where(
            _months.c.enterprise_uscc.in_(usccs),
            _months.c.month.between(first_month, last_month),
        )
    )
    return list(result.mappings().all())


async def open_lives(*, session: AsyncSession, before: int) -> list[tuple[LoanLife, int]]:
    """The loans whose 贴息 goes on after their kept months, kept through a month before
    ``before``: each with its last kept month."""
    through = dict(
        (await session.execute(sa.select(_open).where(_open.c.through_month < before))).all()
    )
    if not through:
        return []
    lives = await _lives(session, [col(BatchLoan.id).in_(list(through))])
    return [(life, int(through[life.loan_id])) for life in lives]
