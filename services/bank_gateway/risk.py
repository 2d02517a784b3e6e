"""Batch risk, live from the loan ledger; suspension when losses reach the policy's line.

Net loss = outstanding principal of loans in default whose claim is not decided yet (the
exposure the fund faces) + compensation paid on decided claims − the fund's share of
recoveries since; loss rate = net loss ÷ principal disbursed in the batch. The thresholds
are the policy version's `batch_risk`, copied into the batch when it was drafted. An open
batch whose loss rate reaches the suspension line is suspended in the same transaction as
the event or claim decision that pushed it there, the bank is told (`batch.suspended`),
and new approvals are refused until a bureau approver reopens it.
"""

import uuid
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from services.bank_gateway import notices
from services.bank_gateway import repository as repo
from services.bank_gateway.models import (
    Batch,
    BatchRisk,
    BatchStatus,
    Delivery,
    DeliveryKind,
)
from shared.clock import utcnow
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
UNDECIDED = {None, "pending"}
_RATE = Decimal("0.0001")


async def figures(session: AsyncSession, batch: Batch) -> BatchRisk:
    rows = await repo.loan_figures(session=session, batch_id=batch.id)
    disbursed = sum(r.disbursed_fen for r in rows)
    outstanding = sum(r.outstanding_fen for r in rows if r.state in LIVE)
    overdue = sum(r.outstanding_fen for r in rows if r.state == "overdue")
    exposure = sum(
        r.outstanding_fen for r in rows if r.state in IN_DEFAULT and r.claim_status in UNDECIDED
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
    ceiling_amount = round_to_fen(from_fen(disbursed) * ceiling)
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
        defaulted=from_fen(exposure),
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
    """Suspend each open batch of ``batch_ids`` whose loss rate reached the suspension line."""
    for batch in (await repo.batches_by_id(session=session, batch_ids=batch_ids)).values():
        if batch.status != BatchStatus.OPEN:
            continue
        risk = await figures(session, batch)
        if risk.level != "suspension":
            continue
        batch.status = BatchStatus.SUSPENDED
        batch.updated_at = utcnow()
        repo.add(
            session,
            Delivery(
                kind=DeliveryKind.WEBHOOK,
                event_type="batch.suspended",
                bank_id=batch.bank_id,
                payload=notices.payload(
                    "batch.suspended",
                    notices.BatchSuspended(
                        batch_id=batch.id,
                        loss_rate=risk.loss_rate,
                        suspension_loss_rate=risk.suspension_loss_rate,
                        net_loss=risk.net_loss,
                        disbursed=risk.disbursed,
                        reason_zh="批次损失率达到暂停线，暂停受理新的批准",
                    ),
                ),
            ),
        )
        await repo.audit(
            session=session,
            actor="system:risk",
            action="batch.suspended",
            entity_type="batch",
            entity_id=str(batch.id),
            detail={"loss_rate": str(risk.loss_rate), "line": str(risk.suspension_loss_rate)},
            entity=batch,
        )
