"""The outbox as the bureau sees it: what was sent, what is waiting, what died; redelivery."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.bank_gateway import repository as repo
from services.bank_gateway.exceptions import (
    BankNotFound,
    DeliveryNotFound,
    DeliveryStateConflict,
)
from services.bank_gateway.models import (
    Delivery,
    DeliveryKind,
    DeliveryPage,
    DeliveryPublic,
    DeliveryStatus,
    PartnerBank,
)
from services.bank_gateway.outbox import webhook_id
from shared.auth import Principal
from shared.clock import utcnow


def _public(delivery: Delivery, banks: dict[uuid.UUID, PartnerBank]) -> DeliveryPublic:
    bank = banks.get(delivery.bank_id) if delivery.bank_id else None
    return DeliveryPublic(
        id=delivery.id,
        webhook_id=webhook_id(delivery),
        kind=DeliveryKind(delivery.kind),
        event_type=delivery.event_type,
        bank_code=bank.code if bank else None,
        application_id=delivery.application_id,
        status=DeliveryStatus(delivery.status),
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at,
        last_error=delivery.last_error,
        last_status_code=delivery.last_status_code,
        created_at=delivery.created_at,
        delivered_at=delivery.delivered_at,
        ended_at=delivery.ended_at,
        payload=delivery.payload,
    )


async def list_deliveries(
    *,
    session: AsyncSession,
    status: DeliveryStatus | None,
    bank_code: str | None,
    offset: int,
    limit: int,
) -> DeliveryPage:
    banks = {b.id: b for b in await repo.list_banks(session=session)}
    bank_id = None
    if bank_code is not None:
        match = [b for b in banks.values() if b.code == bank_code]
        if not match:
            raise BankNotFound(f"没有代码为 {bank_code} 的合作银行")
        bank_id = match[0].id
    rows, total = await repo.list_deliveries(
        session=session,
        status=status.value if status else None,
        bank_id=bank_id,
        offset=offset,
        limit=limit,
    )
    return DeliveryPage(
        items=[_public(r, banks) for r in rows], total=total, offset=offset, limit=limit
    )


async def redeliver(
    *, session: AsyncSession, principal: Principal, delivery_id: uuid.UUID
) -> DeliveryPublic:
    """A dead or failed delivery goes out again now, with a fresh retry window."""
    delivery = await repo.get_delivery(session=session, delivery_id=delivery_id, for_update=True)
    if delivery is None:
        raise DeliveryNotFound(f"没有编号为 {delivery_id} 的投递")
    if delivery.status not in (DeliveryStatus.DEAD, DeliveryStatus.FAILED):
        raise DeliveryStateConflict(
            f"投递状态为 {delivery.status}，只有 dead / failed 的投递可以重发"
        )
    now = utcnow()
    previous = delivery.status
    delivery.status = DeliveryStatus.PENDING
    delivery.next_attempt_at = now
    delivery.window_from = now  # the 24 h window starts again
    delivery.ended_at = None
    delivery.lease_until = None
    await repo.audit(
        session=session,
        actor=principal.actor,
        action="delivery.redelivered",
        entity_type="delivery",
        entity_id=str(delivery.id),
        detail={"event_type": delivery.event_type, "previous_status": previous},
        entity=delivery,
    )
    banks = {b.id: b for b in await repo.list_banks(session=session)}
    return _public(delivery, banks)
