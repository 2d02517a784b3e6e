"""担保费实收: the fees the fund actually received, recorded by the fund's staff against a
guarantee's schedule (each receipt for one fee period, within what the firm owes for it).
Never commits."""

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.guarantee.guarantees import repository as repo
from services.guarantee.guarantees.exceptions import (
    FeeCollectionConflict,
    FeeCollectionInvalid,
    GuaranteeNotFound,
)
from services.guarantee.guarantees.schemas import (
    FeeCollectionCreate,
    FeeCollectionPublic,
    FeeCollections,
)
from services.guarantee.models import AuditEntry, Guarantee
from shared import audit
from shared.clock import shanghai_today, utcnow
from shared.money import from_fen, to_fen


def collected_fen(guarantee: Guarantee, period_from: date | None = None) -> int:
    return sum(
        int(c["amount_fen"])
        for c in guarantee.fee_collections or []
        if period_from is None or c["period_from"] == period_from.isoformat()
    )


def findings(guarantee: Guarantee, entry: FeeCollectionCreate, today: date) -> list[str]:
    """Why the receipt cannot be recorded (none: it can). Pure."""
    period = next(
        (p for p in guarantee.schedule if p["period_from"] == entry.period_from.isoformat()), None
    )
    if period is None:
        return [f"收费计划中没有自 {entry.period_from} 起的收费期"]
    found = []
    if entry.collected_on > today:
        found.append(f"收款日 {entry.collected_on} 晚于今天 {today}")
    if entry.collected_on < guarantee.disbursed_on:
        found.append(f"收款日 {entry.collected_on} 早于放款日 {guarantee.disbursed_on}")
    open_fen = to_fen(Decimal(period["payable"])) - collected_fen(guarantee, entry.period_from)
    if to_fen(entry.amount) > open_fen:
        found.append(
            f"实收 {entry.amount:,} 元超过该期企业应缴未收的 {from_fen(max(open_fen, 0)):,} 元"
        )
    return found


def _public(row: dict[str, Any]) -> FeeCollectionPublic:
    fields = {k: v for k, v in row.items() if k != "amount_fen"}
    return FeeCollectionPublic.model_validate(
        {**fields, "amount": from_fen(int(row["amount_fen"]))}
    )


def listing(guarantee: Guarantee) -> FeeCollections:
    return FeeCollections(
        loan_id=guarantee.loan_id,
        payable=sum((Decimal(p["payable"]) for p in guarantee.schedule), start=Decimal(0)),
        collected=from_fen(collected_fen(guarantee)),
        items=[_public(c) for c in guarantee.fee_collections or []],
    )


async def of_loan(*, session: AsyncSession, loan_id: uuid.UUID) -> FeeCollections:
    guarantee = await repo.guarantee_for_loan(session=session, loan_id=loan_id)
    if guarantee is None:
        raise GuaranteeNotFound(f"贷款 {loan_id} 没有担保")
    return listing(guarantee)


async def record(
    *, session: AsyncSession, loan_id: uuid.UUID, entry: FeeCollectionCreate, actor: str
) -> tuple[FeeCollections, bool]:
    """Record a receipt (True) — or find the same one recorded before (False)."""
    guarantee = await repo.guarantee_for_loan(session=session, loan_id=loan_id, for_update=True)
    if guarantee is None:
        raise GuaranteeNotFound(f"贷款 {loan_id} 没有担保")
    facts = entry.model_dump(mode="json", exclude={"amount"}) | {"amount_fen": to_fen(entry.amount)}
    for earlier in guarantee.fee_collections or []:
        if earlier["reference"] == entry.reference:
            if {k: earlier[k] for k in facts} != facts:
                raise FeeCollectionConflict(f"收款凭证 {entry.reference} 已按不同内容登记")
            return listing(guarantee), False
    found = findings(guarantee, entry, shanghai_today())
    if found:
        raise FeeCollectionInvalid("；".join(found))
    row = facts | {"recorded_by": actor, "recorded_at": utcnow().isoformat()}
    # A new list, so the JSON column is seen as changed.
    guarantee.fee_collections = [*(guarantee.fee_collections or []), row]
    audit.append(
        session,
        AuditEntry,
        actor=actor,
        action="guarantee.fee_collected",
        entity_type="guarantee",
        entity_id=str(guarantee.id),
        detail={"loan_id": str(loan_id), **facts},
        entity=guarantee,
    )
    return listing(guarantee), True
