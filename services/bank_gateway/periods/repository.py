"""All SQL of fiscal periods, statement lines and payouts. Never commits."""

import uuid
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.bank_gateway.models import (
    Batch,
    BatchLoan,
    FiscalPeriod,
    MoneyEntry,
    PartnerBank,
    ReceivedEvent,
    StatementLine,
    SubsidyPayout,
)
from services.bank_gateway.periods.rules import LoanRef
from shared.money import to_fen


async def closed_periods(*, session: AsyncSession) -> Sequence[FiscalPeriod]:
    result = await session.execute(select(FiscalPeriod).order_by(col(FiscalPeriod.first_day)))
    return result.scalars().all()


async def statement_lines(
    *, session: AsyncSession, period_key: str | None = None
) -> Sequence[StatementLine]:
    """The lines booked in one period (or in all)."""
    query = select(StatementLine)
    if period_key is not None:
        query = query.where(StatementLine.period_key == period_key)
    return (await session.execute(query)).scalars().all()


def add_all(
    session: AsyncSession, rows: Sequence[FiscalPeriod | StatementLine | SubsidyPayout]
) -> None:
    session.add_all(rows)


async def payouts(*, session: AsyncSession, period_key: str) -> dict[str, SubsidyPayout]:
    result = await session.execute(
        select(SubsidyPayout).where(SubsidyPayout.period_key == period_key)
    )
    return {p.enterprise_uscc: p for p in result.scalars().all()}


async def loan_refs(*, session: AsyncSession, loan_ids: set[uuid.UUID]) -> dict[uuid.UUID, LoanRef]:
    if not loan_ids:
        return {}
    result = await session.execute(
        sa.select(
            BatchLoan.id,
            BatchLoan.application_id,
            PartnerBank.code,
            BatchLoan.enterprise_uscc,
            BatchLoan.enterprise_name,
        )
        .join(Batch, col(Batch.id) == col(BatchLoan.batch_id))
        .join(PartnerBank, col(PartnerBank.id) == col(Batch.bank_id))
        .where(col(BatchLoan.id).in_(loan_ids))
    )
    return {row[0]: LoanRef(*row) for row in result.all()}


async def loans(*, session: AsyncSession, loan_ids: set[uuid.UUID]) -> Sequence[BatchLoan]:
    if not loan_ids:
        return []
    result = await session.execute(select(BatchLoan).where(col(BatchLoan.id).in_(loan_ids)))
    return result.scalars().all()


async def recoveries_between(
    *, session: AsyncSession, first_day: date, last_day: date
) -> list[tuple[uuid.UUID, int]]:
    """(loan, fen) of each recovery the ledger applied, dated between the days (the day the
    bank reports it recovered the money)."""
    result = await session.execute(
        select(ReceivedEvent.loan_id, ReceivedEvent.payload).where(
            ReceivedEvent.event_type == "loan.recovered", ReceivedEvent.status == "applied"
        )
    )
    found = []
    for loan_id, payload in result.all():
        data = payload.get("data") or {}
        if (
            loan_id is not None
            and first_day <= date.fromisoformat(data["recovered_on"]) <= last_day
        ):
            found.append((loan_id, to_fen(Decimal(str(data["amount"])))))
    return found


async def money_between(
    *, session: AsyncSession, first_day: date, last_day: date
) -> Sequence[MoneyEntry]:
    result = await session.execute(
        select(MoneyEntry).where(
            col(MoneyEntry.on_day) >= first_day, col(MoneyEntry.on_day) <= last_day
        )
    )
    return result.scalars().all()


async def first_disbursal(*, session: AsyncSession) -> date | None:
    """The first day with money in the programme: no statement before it."""
    return await session.scalar(
        sa.select(sa.func.min(BatchLoan.disbursed_on)).where(BatchLoan.state != "unguaranteed")
    )
