"""The outbox: what the gateway tells banks, loan_intake and the guarantee service.

Every message is a row written in the transaction of the change it tells of (so nothing
is sent for a change that did not happen, and nothing is lost); :mod:`worker` sends them.
Three kinds:

- ``webhook``: a notification to a bank (its body one of :mod:`notices`), signed per
  Standard Webhooks; retried for 24 h, then dead — listed, and redeliverable by hand.
- ``intake``: a loan's change for the SME's status page in loan_intake.
- ``guarantee``: 备案 of a disbursed loan, a claim, a recovery — to the guarantee service.

Never commits.
"""

import uuid
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from services.bank_gateway.banks import service as banks
from services.bank_gateway.banks.exceptions import BankNotFound
from services.bank_gateway.models import (
    AuditEntry,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    PartnerBank,
)
from services.bank_gateway.notifications import notices
from services.bank_gateway.notifications import repository as repo
from services.bank_gateway.notifications.exceptions import (
    DeliveryNotFound,
    DeliveryStateConflict,
)
from services.bank_gateway.notifications.schemas import DeliveryPage, DeliveryPublic
from shared import audit
from shared.auth import Principal
from shared.clock import strictly_later, utcnow

Row = dict[str, Any]


def new_row(
    *,
    kind: str,
    event_type: str,
    payload: dict[str, Any],
    bank_id: uuid.UUID | None = None,
    application_id: uuid.UUID | None = None,
) -> Row:
    """A new outbox row with every column given (they are inserted in one statement)."""
    now = strictly_later()
    return {
        "id": uuid.uuid4(),
        "kind": kind,
        "event_type": event_type,
        "bank_id": bank_id,
        "application_id": application_id,
        "payload": payload,
        "status": DeliveryStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "lease_until": None,
        "last_error": None,
        "last_status_code": None,
        "created_at": now,
        "window_from": now,
        "delivered_at": None,
        "ended_at": None,
    }


def to_bank(bank_id: uuid.UUID, event_type: str, data: BaseModel) -> Row:
    """A notification to a bank; ``data`` is checked against its model in :mod:`notices`."""
    return new_row(
        kind=DeliveryKind.WEBHOOK,
        event_type=event_type,
        bank_id=bank_id,
        payload=notices.payload(event_type, data),
    )


def to_intake(
    *,
    application_id: uuid.UUID,
    event_type: str,
    status: str,
    reason_zh: str,
    batch_id: uuid.UUID,
    bank_code: str,
    details: dict[str, Any],
    news: bool = False,
) -> Row:
    """A change of the application's loan, for the SME's status page (loan_intake); with
    ``news``, a fact that leaves its status as it is (a subsidy paid)."""
    return new_row(
        kind=DeliveryKind.INTAKE,
        event_type=event_type,
        application_id=application_id,
        payload={
            "status": status,
            "occurred_at": utcnow().isoformat(),
            "reason_zh": reason_zh,
            "batch_id": str(batch_id),
            "bank_code": bank_code,
            "details": details,
            **({"news": True} if news else {}),
        },
    )


def to_guarantee(
    *, application_id: uuid.UUID, loan_id: uuid.UUID, event_type: str, body: BaseModel
) -> Row:
    """A call to the guarantee service: ``guarantee.filing`` (备案), ``guarantee.claim``,
    ``guarantee.recovery``. ``application_id`` keeps one loan's calls in order."""
    return new_row(
        kind=DeliveryKind.GUARANTEE,
        event_type=event_type,
        application_id=application_id,
        payload={**body.model_dump(mode="json"), "loan_id": str(loan_id)},
    )


async def send(*, session: AsyncSession, rows: list[Row]) -> None:
    """Write the rows into the outbox, in the caller's transaction."""
    await repo.insert_deliveries(session=session, rows=rows)


# --- the bureau's view ---------------------------------------------------------------------


def webhook_id(delivery: Delivery) -> str:
    return f"msg_{delivery.id.hex}"


def _public(delivery: Delivery, banks_by_id: dict[uuid.UUID, PartnerBank]) -> DeliveryPublic:
    bank = banks_by_id.get(delivery.bank_id) if delivery.bank_id else None
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
    tried: bool = False,
) -> DeliveryPage:
    """``tried``: only notifications attempted at least once (pending: being retried)."""
    by_id = {b.id: b for b in await banks.all_banks(session=session)}
    bank_id = None
    if bank_code is not None:
        match = [b for b in by_id.values() if b.code == bank_code]
        if not match:
            raise BankNotFound(f"没有代码为 {bank_code} 的合作银行")
        bank_id = match[0].id
    rows, total = await repo.list_deliveries(
        session=session,
        status=status.value if status else None,
        bank_id=bank_id,
        offset=offset,
        limit=limit,
        tried=tried,
    )
    return DeliveryPage(
        items=[_public(r, by_id) for r in rows], total=total, offset=offset, limit=limit
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
    previous = delivery.status
    repo.requeue(session, delivery, now=utcnow())
    audit.append(
        session,
        AuditEntry,
        actor=principal.actor,
        action="delivery.redelivered",
        entity_type="delivery",
        entity_id=str(delivery.id),
        detail={"event_type": delivery.event_type, "previous_status": previous},
        entity=delivery,
    )
    by_id = {b.id: b for b in await banks.all_banks(session=session)}
    return _public(delivery, by_id)


async def applications_in_flight(*, session: AsyncSession) -> set[uuid.UUID]:
    """Applications with a notice still on its way to the fund, intake or a bank."""
    return await repo.applications_in_flight(session=session)
