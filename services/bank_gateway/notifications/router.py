"""The outbox as the bureau sees it: what was sent, what is waiting, what died; redelivery."""

import uuid

from fastapi import APIRouter

from services.bank_gateway.banks.exceptions import BankNotFound
from services.bank_gateway.deps import BureauDep, SessionDep
from services.bank_gateway.models import DeliveryStatus
from services.bank_gateway.notifications import service
from services.bank_gateway.notifications.exceptions import (
    DeliveryNotFound,
    DeliveryStateConflict,
)
from services.bank_gateway.notifications.schemas import DeliveryPage, DeliveryPublic
from shared.api import AUTH_PROBLEMS, Limit, Offset
from shared.errors import ValidationFailed, problem_responses

deliveries = APIRouter(prefix="/v1/deliveries", tags=["notifications"])


@deliveries.get(
    "", response_model=DeliveryPage, responses=problem_responses(*AUTH_PROBLEMS, BankNotFound)
)
async def list_deliveries(
    session: SessionDep,
    principal: BureauDep,
    status: DeliveryStatus | None = None,
    bank: str | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> DeliveryPage:
    """Notifications to banks and updates to loan_intake: pending, delivered, dead, failed."""
    return await service.list_deliveries(
        session=session, status=status, bank_code=bank, offset=offset, limit=limit
    )


@deliveries.post(
    "/{delivery_id}/redelivery",
    response_model=DeliveryPublic,
    responses=problem_responses(
        *AUTH_PROBLEMS, DeliveryNotFound, DeliveryStateConflict, ValidationFailed
    ),
)
async def redeliver(
    delivery_id: uuid.UUID, session: SessionDep, principal: BureauDep
) -> DeliveryPublic:
    """Send a dead or failed delivery again, now, with a fresh 24 h retry window."""
    return await service.redeliver(session=session, principal=principal, delivery_id=delivery_id)
