"""Batch risk, live from the loan ledger; suspension when losses reach the policy's line.

Loss rate = outstanding principal of defaulted loans ÷ principal disbursed in the batch
(until claims are paid, the exposure the fund faces). The thresholds are the policy
version's `batch_risk`, copied into the batch when it was drafted. An open batch whose
loss rate reaches the suspension line is suspended in the same transaction as the event
that pushed it there, the bank is told (`batch.suspended`), and new approvals are refused
until a bureau approver reopens it.
"""

import uuid
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.ext.asyncio import AsyncSession

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

LIVE = {"disbursed", "repaying", "overdue", "defaulted", "recovering"}
IN_DEFAULT = {"defaulted", "recovering"}
_RATE = Decimal("0.0001")


async def figures(session: AsyncSession, batch: Batch) -> BatchRisk:
    rows = await repo.loan_figures(session=session, batch_id=batch.id)
    disbursed = sum(d for _, _, d, _ in rows)
    outstanding = sum(o for state, _, _, o in rows if state in LIVE)
    overdue = sum(o for state, _, _, o in rows if state == "overdue")
    defaulted = sum(o for state, _, _, o in rows if state in IN_DEFAULT)
    loss_rate = (
        (Decimal(defaulted) / Decimal(disbursed)).quantize(_RATE, rounding=ROUND_HALF_UP)
        if disbursed
        else Decimal("0.0000")
    )
    warning = Decimal(batch.warning_loss_rate)
    suspension = Decimal(batch.suspension_loss_rate)
    ceiling = Decimal(batch.compensation_ceiling)
    level = (
        "suspension" if loss_rate >= suspension else "warning" if loss_rate >= warning else "normal"
    )
    return BatchRisk(
        batch_id=batch.id,
        status=BatchStatus(batch.status),
        quota=from_fen(batch.quota_fen),
        allocated=from_fen(batch.allocated_fen),
        quota_used=(Decimal(batch.allocated_fen) / Decimal(batch.quota_fen)).quantize(_RATE),
        loans_by_state={state: n for state, n, _, _ in rows},
        disbursed=from_fen(disbursed),
        outstanding=from_fen(outstanding),
        overdue=from_fen(overdue),
        defaulted=from_fen(defaulted),
        compensation_paid=from_fen(0),
        loss_rate=loss_rate,
        warning_loss_rate=warning,
        suspension_loss_rate=suspension,
        compensation_ceiling=ceiling,
        compensation_ceiling_amount=round_to_fen(from_fen(disbursed) * ceiling),
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
                payload={
                    "batch_id": str(batch.id),
                    "loss_rate": str(risk.loss_rate),
                    "suspension_loss_rate": str(risk.suspension_loss_rate),
                    "defaulted": str(risk.defaulted),
                    "disbursed": str(risk.disbursed),
                    "reason_zh": "批次损失率达到暂停线，暂停受理新的批准",
                },
            ),
        )
        await repo.audit(
            session=session,
            actor="system:risk",
            action="batch.suspended",
            entity_type="batch",
            entity_id=str(batch.id),
            detail={"loss_rate": str(risk.loss_rate), "line": str(risk.suspension_loss_rate)},
        )
