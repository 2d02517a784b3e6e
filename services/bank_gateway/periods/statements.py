"""A period's statement (per bank, per firm — the 拨付清单 — and its adjustments) and the
bureau's payouts of a closed period's subsidies, each told to the SME. Never commits."""

import uuid
from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.bank_gateway.clients import GuaranteeClient
from services.bank_gateway.ledger import effects
from services.bank_gateway.models import AuditEntry, SubsidyPayout
from services.bank_gateway.notifications import service as outbox
from services.bank_gateway.periods import calendar, rules
from services.bank_gateway.periods import repository as repo
from services.bank_gateway.periods import service as periods
from services.bank_gateway.periods.exceptions import PayoutInvalid, PeriodNotClosed, PeriodNotFound
from services.bank_gateway.periods.rules import Line
from services.bank_gateway.periods.schemas import (
    AdjustmentRow,
    BankRow,
    EnterpriseRow,
    Figures,
    PayoutCreate,
    PayoutPublic,
    PayoutResult,
    PeriodSummary,
    Statement,
)
from services.bank_gateway.staff import service as staff
from shared import audit
from shared.auth import Principal
from shared.money import from_fen


def figures(lines: Iterable[Line]) -> Figures:
    return Figures(**{k: from_fen(v) for k, v in rules.totals(lines).items()})


async def statement(
    *, session: AsyncSession, guarantee: GuaranteeClient, key: str, today: date
) -> Statement:
    """Frozen lines of a closed period; for an open one, what closing it now would freeze."""
    items, opened = await periods.summaries(session, guarantee, today)
    summary = next((i for i in items if i.key == key), None)
    if summary is None:
        raise PeriodNotFound(f"没有结算期 {key}")
    if summary.status == "closed":
        lines = [
            periods.line_of(r) for r in await repo.statement_lines(session=session, period_key=key)
        ]
    else:
        period = next(p for p in opened if p.key == key)
        amounts, refs = await periods.live(session, guarantee, period)
        lines = rules.lines_of(amounts, refs, corrects=None)
        if period == opened[0]:  # adjustments land in the next period to close
            closed = await repo.closed_periods(session=session)
            stored = await repo.statement_lines(session=session)
            lines += await periods.pending_adjustments(session, guarantee, closed, stored)
    payouts = await repo.payouts(session=session, period_key=key)
    return await _present(session, summary, lines, payouts)


async def _present(
    session: AsyncSession,
    summary: PeriodSummary,
    lines: list[Line],
    payouts: dict[str, SubsidyPayout],
) -> Statement:
    names = await periods.bank_names(session)
    people = await staff.names_of(session=session, actors=[p.paid_by for p in payouts.values()])
    banks = [
        BankRow(bank_code=code, bank_name=names.get(code, code), **figures(group).model_dump())
        for code, group in rules.grouped(lines, "bank").items()
    ]
    firms = []
    for uscc, group in rules.grouped(lines, "enterprise").items():
        paid = payouts.get(uscc)
        firms.append(
            EnterpriseRow(
                uscc=uscc,
                enterprise_name=group[0].loan.name,
                banks=sorted({names.get(x.loan.bank_code, x.loan.bank_code) for x in group}),
                payout=PayoutPublic(
                    amount=from_fen(paid.amount_fen),
                    voucher_number=paid.voucher_number,
                    paid_on=paid.paid_on,
                    paid_by=paid.paid_by,
                    paid_by_name=people.get(paid.paid_by, paid.paid_by),
                )
                if paid
                else None,
                **figures(group).model_dump(),
            )
        )
    return Statement(
        **summary.model_dump(),
        banks=banks,
        enterprises=firms,
        adjustments=_adjustments(lines),
        totals=figures(lines),
        own_totals=figures(x for x in lines if x.corrects is None),
    )


def _adjustments(lines: Sequence[Line]) -> list[AdjustmentRow]:
    """Adjustments per corrected period, firm and kind."""
    summed: dict[tuple[str, str, str], tuple[Line, int]] = {}
    for x in lines:
        if x.corrects:
            key = (x.corrects, x.loan.uscc, x.kind)
            first, fen = summed.get(key, (x, 0))
            summed[key] = (first, fen + x.fen)
    return [
        AdjustmentRow(
            corrects=corrects,
            corrects_label=calendar.parse(corrects).label,
            uscc=uscc,
            enterprise_name=first.loan.name,
            bank_code=first.loan.bank_code,
            kind=kind,
            kind_zh=rules.KINDS[kind],
            amount=from_fen(fen),
        )
        for (corrects, uscc, kind), (first, fen) in sorted(summed.items())
        if fen
    ]


async def _due(
    session: AsyncSession, key: str, body: PayoutCreate, today: date
) -> dict[str, list[Line]]:
    """The firms with subsidies to pay in the closed period ``key``, with their lines."""
    closed = {p.key: p for p in await repo.closed_periods(session=session)}
    if key not in closed:
        raise PeriodNotClosed(f"结算期 {key} 尚未关账，关账后方可登记拨付")
    period = closed[key]
    if body.paid_on > today or body.paid_on < period.last_day:
        raise PayoutInvalid(f"拨付日须在结算期结束（{period.last_day}）之后、不晚于今天（{today}）")
    lines = [
        periods.line_of(r) for r in await repo.statement_lines(session=session, period_key=key)
    ]
    return {
        uscc: group
        for uscc, group in rules.grouped(lines, "enterprise").items()
        if rules.totals(group)["subsidy_total"] > 0
    }


async def pay(
    *, session: AsyncSession, principal: Principal, key: str, body: PayoutCreate, today: date
) -> PayoutResult:
    """The bureau paid firms their subsidies of a closed period (fee subsidy + 贴息, with the
    adjustments booked in it) under one voucher; each firm's SME is told on its loans' pages.
    A firm paid before is left as it was."""
    due = await _due(session, key, body, today)
    wanted = list(dict.fromkeys(body.usccs)) if body.usccs is not None else sorted(due)
    unknown = [u for u in wanted if u not in due]
    if unknown:
        raise PayoutInvalid(
            f"以下企业在{calendar.parse(key).label}没有应拨补贴：{'、'.join(unknown)}"
        )
    before = await repo.payouts(session=session, period_key=key)
    fresh = [u for u in wanted if u not in before]
    rows, notices = [], []
    for uscc in fresh:
        group = due[uscc]
        rows.append(
            SubsidyPayout(
                period_key=key,
                enterprise_uscc=uscc,
                enterprise_name=group[0].loan.name,
                amount_fen=rules.totals(group)["subsidy_total"],
                voucher_number=body.voucher_number,
                paid_on=body.paid_on,
                paid_by=principal.actor,
            )
        )
        notices += await _tell_firm(session, calendar.parse(key).label, group, body)
    repo.add_all(session, rows)
    try:
        await session.flush()
    except IntegrityError as error:  # another clerk recorded the same firms a moment ago
        raise PayoutInvalid("部分企业刚刚已由他人登记拨付，请刷新后重试") from error
    await outbox.send(session=session, rows=notices)
    total = sum(r.amount_fen for r in rows)
    audit.append(
        session,
        AuditEntry,
        actor=principal.actor,
        action="subsidy.paid",
        entity_type="fiscal_period",
        entity_id=key,
        detail={"voucher": body.voucher_number, "firms": fresh, "amount_fen": total},
    )
    return PayoutResult(
        paid=len(rows), already_paid=[u for u in wanted if u in before], amount=from_fen(total)
    )


async def _tell_firm(
    session: AsyncSession, label: str, group: list[Line], body: PayoutCreate
) -> list[outbox.Row]:
    """One line on each of the firm's loans' pages: what it received for that loan."""
    by_loan: dict[uuid.UUID, list[Line]] = {}
    for x in group:
        by_loan.setdefault(x.loan.loan_id, []).append(x)
    out = []
    for loan in await repo.loans(session=session, loan_ids=set(by_loan)):
        t = rules.totals(by_loan[loan.id])
        if t["subsidy_total"] <= 0:
            continue
        total, fee, interest = (
            from_fen(t[k]) for k in ("subsidy_total", "fee_subsidy", "interest_subsidy")
        )
        text = (
            f"区财政局已拨付{label}补贴 ¥{total:,}（担保费补贴 ¥{fee:,}，贴息 ¥{interest:,}），"
            f"拨付日 {body.paid_on}，凭证号 {body.voucher_number}"
        )
        details = {
            "period": label,
            "amount": str(from_fen(t["subsidy_total"])),
            "fee_subsidy": str(from_fen(t["fee_subsidy"])),
            "interest_subsidy": str(from_fen(t["interest_subsidy"])),
            "voucher_number": body.voucher_number,
            "paid_on": body.paid_on.isoformat(),
        }
        out.append(
            effects.to_intake(
                loan, by_loan[loan.id][0].loan.bank_code, "subsidy.paid", text, details, news=True
            )
        )
    return out
