"""Batch risk, live from the loan ledger; suspension when losses reach the policy's line.

Net loss = the fund's coverage (80 %) of the outstanding principal of loans in default whose
claim is not decided yet (the exposure the fund faces, measured as a payout would be) +
compensation paid on decided claims − the fund's share of recoveries since; loss rate =
net loss ÷ principal disbursed (filed) in the batch. Before and after a payout the same
loss counts about the same (coverage × principal, then coverage × (principal + interest
recognised)), where counting 100 % before made the rate drop when the fund paid. The thresholds
are the policy version's `batch_risk`, copied into the batch when it was drafted. An open
batch whose loss rate reaches the suspension line is suspended in the same transaction as
the event or claim decision that pushed it there, the bank is told (`batch.suspended`),
and new approvals are refused until a bureau approver reopens it.
"""

import uuid
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.bank_gateway.ledger import repository as repo
from services.bank_gateway.ledger.schemas import BatchRisk
from services.bank_gateway.models import AuditEntry, Batch, BatchStatus
from services.bank_gateway.notifications import notices
from services.bank_gateway.notifications import service as outbox
from shared import audit
from shared.clock import shanghai_date, utcnow
from shared.money import from_fen, round_to_fen

LIVE = {
    "disbursed",
    "repaying",
    "overdue",
    "defaulted",
    "claimed",
    "compensated",
    "recovering",
}
IN_DEFAULT = {"defaulted", "claimed", "compensated", "recovering"}
_RATE = Decimal("0.0001")


def _fen(amount: Decimal) -> int:
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


async def figures(session: AsyncSession, batch: Batch) -> BatchRisk:
    rows = await repo.loan_figures(session=session, batch_id=batch.id)
    # A loan the fund refused to file is not the batch's: not in its volume nor its losses.
    disbursed = sum(r.disbursed_fen for r in rows if r.state != "unguaranteed")
    outstanding = sum(r.outstanding_fen for r in rows if r.state in LIVE)
    overdue = sum(r.outstanding_fen for r in rows if r.state == "overdue")
    # The fund's exposure: its coverage of what is in default and not yet decided — the
    # same measure as a payout (coverage × the loss), so the rate does not fall when a
    # claim is paid.
    undecided = await repo.undecided_defaults(session=session, batch_id=batch.id, states=IN_DEFAULT)
    in_default = sum(fen for fen, _ in undecided)
    exposure = sum(
        _fen(Decimal(fen) * Decimal(str((terms or {}).get("coverage_ratio", "0.8000"))))
        for fen, terms in undecided
    )
    compensation = sum(r.compensation_fen for r in rows)
    to_fund = sum(r.fund_recovered_fen for r in rows)
    net_loss = exposure + compensation - to_fund
    loss_rate = (
        (Decimal(net_loss) / Decimal(disbursed)).quantize(_RATE, rounding=ROUND_HALF_UP)
        if disbursed
        else Decimal("0.0000")
    )
    warning = Decimal(batch.warning_loss_rate)
    suspension = Decimal(batch.suspension_loss_rate)
    ceiling = Decimal(batch.compensation_ceiling)
    # The policy's base: the principal filed (grows with each 备案) or the batch's quota.
    base = batch.quota_fen if batch.ceiling_base == "batch_quota" else disbursed
    ceiling_amount = round_to_fen(from_fen(base) * ceiling)
    level = (
        "suspension" if loss_rate >= suspension else "warning" if loss_rate >= warning else "normal"
    )
    by_state: dict[str, int] = {}
    for r in rows:
        by_state[r.state] = by_state.get(r.state, 0) + r.loans
    return BatchRisk(
        batch_id=batch.id,
        status=BatchStatus(batch.status),
        quota=from_fen(batch.quota_fen),
        allocated=from_fen(batch.allocated_fen),
        quota_used=(Decimal(batch.allocated_fen) / Decimal(batch.quota_fen)).quantize(_RATE),
        loans_by_state=by_state,
        disbursed=from_fen(disbursed),
        outstanding=from_fen(outstanding),
        overdue=from_fen(overdue),
        defaulted=from_fen(in_default),
        fund_exposure=from_fen(exposure),
        compensation_paid=from_fen(compensation),
        recovered_to_fund=from_fen(to_fund),
        net_loss=from_fen(net_loss),
        loss_rate=loss_rate,
        warning_loss_rate=warning,
        suspension_loss_rate=suspension,
        compensation_ceiling=ceiling,
        compensation_ceiling_amount=ceiling_amount,
        compensation_room=max(ceiling_amount - from_fen(compensation), Decimal("0.00")),
        level=level,
    )


async def suspend_if_over(session: AsyncSession, batch_ids: set[uuid.UUID]) -> None:
    """Suspend each open batch of ``batch_ids`` whose loss rate reached the suspension line;
    reopen a suspended one whose rate is back under it if its policy says so (auto_resume)."""
    for batch in (await repo.batches_by_id(session=session, batch_ids=batch_ids)).values():
        resumable = batch.status == BatchStatus.SUSPENDED and batch.auto_resume
        if batch.status != BatchStatus.OPEN and not resumable:
            continue
        risk = await figures(session, batch)
        over = risk.level == "suspension"
        if batch.status == BatchStatus.OPEN and over:
            notice: Any = notices.BatchSuspended(
                batch_id=batch.id,
                loss_rate=risk.loss_rate,
                suspension_loss_rate=risk.suspension_loss_rate,
                net_loss=risk.net_loss,
                disbursed=risk.disbursed,
                reason_zh="批次损失率达到暂停线，暂停受理新的批准",
            )
            await _turn(session, batch, BatchStatus.SUSPENDED, "batch.suspended", notice, risk)
        elif resumable and not over:
            notice = notices.BatchReopened(batch_id=batch.id, loss_rate=risk.loss_rate)
            await _turn(session, batch, BatchStatus.OPEN, "batch.reopened", notice, risk)


async def _turn(
    session: AsyncSession,
    batch: Batch,
    status: BatchStatus,
    event_type: str,
    notice: Any,
    risk: BatchRisk,
) -> None:
    """The batch suspended or reopened by its loss rate: the bank told, the change audited."""
    batch.status = status
    batch.updated_at = utcnow()
    await outbox.send(session=session, rows=[outbox.to_bank(batch.bank_id, event_type, notice)])
    audit.append(
        session,
        AuditEntry,
        actor="system:risk",
        action=event_type,
        entity_type="batch",
        entity_id=str(batch.id),
        detail={"loss_rate": str(risk.loss_rate), "line": str(risk.suspension_loss_rate)},
        entity=batch,
    )


async def utilisation(
    *, session: AsyncSession, batch: Batch
) -> dict[str, list[tuple[date, Decimal]]]:
    """Allocated and disbursed, cumulative by day (yuan): the batch's use over time."""
    allocated: dict[date, int] = {}
    disbursed: dict[date, int] = {}
    for loan in await repo.loans_of_batch(session=session, batch_id=batch.id):
        day = shanghai_date(loan.created_at)
        allocated[day] = allocated.get(day, 0) + loan.amount_fen
        if loan.disbursed_on is not None:
            disbursed[loan.disbursed_on] = disbursed.get(loan.disbursed_on, 0) + loan.disbursed_fen

    def cumulative(per_day: dict[date, int]) -> list[tuple[date, Decimal]]:
        total, points = 0, []
        for day in sorted(per_day):
            total += per_day[day]
            points.append((day, from_fen(total)))
        return points

    return {"已分配": cumulative(allocated), "已放款": cumulative(disbursed)}
