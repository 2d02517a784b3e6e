"""Fiscal periods: what each period's statement says, closing one (a bureau approver
freezes it, late changes to earlier closed periods booked as adjustments), and the bureau's
payouts of subsidies by voucher, each told to the SME. Never commits."""

import uuid
from collections.abc import Sequence
from datetime import date

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.bank_gateway.banks import service as banks
from services.bank_gateway.clients import GuaranteeClient
from services.bank_gateway.ledger import subsidies
from services.bank_gateway.models import AuditEntry, FiscalPeriod, StatementLine
from services.bank_gateway.periods import calendar, rules
from services.bank_gateway.periods import repository as repo
from services.bank_gateway.periods.calendar import Period
from services.bank_gateway.periods.exceptions import PeriodNotClosable, PeriodNotFound
from services.bank_gateway.periods.rules import Amounts, Booked, Line, LoanRef
from services.bank_gateway.periods.schemas import PeriodSummary
from services.bank_gateway.staff import service as staff
from shared import audit
from shared.auth import Principal, require_approve_permission
from shared.money import to_fen

log = structlog.get_logger("bank_gateway.periods")


async def live(
    session: AsyncSession, guarantee: GuaranteeClient, period: Period
) -> tuple[Amounts, dict[uuid.UUID, LoanRef]]:
    """What the ledger and the fund say of the period now, per loan and kind."""
    amounts: Amounts = {}
    for row in (await guarantee.fee_lines(*period.months)).rows:
        rules.add(amounts, row.loan_id, "fee", to_fen(row.fee))
        rules.add(amounts, row.loan_id, "fee_subsidy", to_fen(row.fee_subsidy))
        rules.add(amounts, row.loan_id, "fee_collected", to_fen(row.collected))
    months, _ = await subsidies.interest_by_loan(
        session=session, month_from=period.months[0], month_to=period.months[1]
    )
    for (loan_id, _month), m in months.items():
        rules.add(amounts, loan_id, "interest_subsidy", m.subsidy_fen)
    days = {"first_day": period.first_day, "last_day": period.last_day}
    for loan_id, fen in await repo.recoveries_between(session=session, **days):
        rules.add(amounts, loan_id, "recovered", fen)
    for entry in await repo.money_between(session=session, **days):
        rules.add(amounts, entry.loan_id, entry.kind, entry.amount_fen)
    refs = await repo.loan_refs(session=session, loan_ids={loan_id for loan_id, _ in amounts})
    unknown = {loan_id for loan_id, _ in amounts} - set(refs)
    if unknown:  # the fund bills a loan the ledger does not know: three-way's to explain
        log.warning("periods.unknown_loans", loans=sorted(map(str, unknown)))
    return amounts, refs


def line_of(row: StatementLine) -> Line:
    ref = LoanRef(
        row.loan_id, row.application_id, row.bank_code, row.enterprise_uscc, row.enterprise_name
    )
    return Line(ref, row.kind, row.amount_fen, row.corrects)


def booked(rows: Sequence[StatementLine]) -> list[Booked]:
    return [Booked(row.period_key, line_of(row)) for row in rows]


def _period_of(row: FiscalPeriod) -> Period:
    return Period(row.key, row.kind, row.first_day, row.last_day)  # type: ignore[arg-type]


async def ledger_of_closed(
    session: AsyncSession, guarantee: GuaranteeClient, closed: Sequence[FiscalPeriod]
) -> tuple[dict[str, Amounts], dict[uuid.UUID, LoanRef]]:
    """What the ledger says now of each closed period."""
    earlier: dict[str, Amounts] = {}
    refs: dict[uuid.UUID, LoanRef] = {}
    for period in closed:
        earlier[period.key], found = await live(session, guarantee, _period_of(period))
        refs |= found
    return earlier, refs


async def pending_adjustments(
    session: AsyncSession,
    guarantee: GuaranteeClient,
    closed: Sequence[FiscalPeriod],
    stored: Sequence[StatementLine],
) -> list[Line]:
    """The adjustments closing the next period would book (rules.corrections)."""
    earlier, refs = await ledger_of_closed(session, guarantee, closed)
    return rules.corrections(earlier, booked(stored), refs)


async def summaries(
    session: AsyncSession, guarantee: GuaranteeClient, today: date
) -> tuple[list[PeriodSummary], list[Period]]:
    """Every period: the closed ones, then the open ones up to today's (the policy in force
    today says monthly or quarterly). The oldest open one, once ended, may be closed."""
    closed = await repo.closed_periods(session=session)
    kind = await guarantee.settlement_period(today)
    since = await repo.first_disbursal(session=session) or today
    after = closed[-1].last_day if closed else None
    opened = calendar.open_periods(after, since, today, kind)  # type: ignore[arg-type]
    names = await _names(session, [c.closed_by for c in closed])
    items = [
        PeriodSummary(
            key=c.key,
            label=_period_of(c).label,
            kind=c.kind,  # type: ignore[arg-type]
            first_day=c.first_day,
            last_day=c.last_day,
            status="closed",
            closed_by=names.get(c.closed_by, c.closed_by),
            closed_at=c.closed_at,
            closable=False,
        )
        for c in closed
    ]
    items += [
        PeriodSummary(
            key=p.key,
            label=p.label,
            kind=p.kind,
            first_day=p.first_day,
            last_day=p.last_day,
            status="open",
            closable=i == 0 and p.last_day < today,
        )
        for i, p in enumerate(opened)
    ]
    return items, opened


async def _names(session: AsyncSession, actors: list[str | None]) -> dict[str, str]:
    return await staff.names_of(session=session, actors=actors)


async def close(
    *,
    session: AsyncSession,
    guarantee: GuaranteeClient,
    principal: Principal,
    key: str,
    today: date,
) -> None:
    """Freeze the oldest open period once it has ended (a bureau approver): its lines as the
    ledger says them now, and what late events changed in earlier closed periods as
    adjustments naming them."""
    require_approve_permission(principal, "结算期关账")
    items, opened = await summaries(session, guarantee, today)
    if key not in {i.key for i in items}:
        raise PeriodNotFound(f"没有结算期 {key}")
    first = opened[0] if opened else None
    if first is None or first.key != key:
        ahead = f"，请先关闭{first.label}" if first else ""
        raise PeriodNotClosable(f"结算期 {key} 已关账或不是最早的未关账期间{ahead}")
    if first.last_day >= today:
        raise PeriodNotClosable(f"{first.label}尚未结束（至 {first.last_day}），结束后方可关账")
    closed = await repo.closed_periods(session=session)
    stored = await repo.statement_lines(session=session)
    amounts, refs = await live(session, guarantee, first)
    earlier, known = await ledger_of_closed(session, guarantee, closed)
    lines = rules.closing(amounts, earlier, booked(stored), known | refs)
    period = FiscalPeriod(
        key=first.key,
        kind=first.kind,
        first_day=first.first_day,
        last_day=first.last_day,
        closed_by=principal.actor,
    )
    repo.add_all(session, [period, *(_row(first.key, x) for x in lines)])
    totals = rules.totals(x for x in lines if x.corrects is None)
    audit.append(
        session,
        AuditEntry,
        actor=principal.actor,
        action="period.closed",
        entity_type="fiscal_period",
        entity_id=first.key,
        detail={
            "lines": len(lines),
            "adjustments": sum(1 for x in lines if x.corrects),
            "totals_fen": totals,
        },
    )
    try:
        await session.flush()
    except IntegrityError as error:  # closed by someone else a moment ago (its key)
        raise PeriodNotClosable(f"{first.label}刚刚已由他人关账") from error


def _row(key: str, line: Line) -> StatementLine:
    return StatementLine(
        id=uuid.uuid4(),
        period_key=key,
        corrects=line.corrects,
        loan_id=line.loan.loan_id,
        application_id=line.loan.application_id,
        bank_code=line.loan.bank_code,
        enterprise_uscc=line.loan.uscc,
        enterprise_name=line.loan.name,
        kind=line.kind,
        amount_fen=line.fen,
    )


async def bank_names(session: AsyncSession) -> dict[str, str]:
    return {b.code: b.name for b in await banks.all_banks(session=session)}
