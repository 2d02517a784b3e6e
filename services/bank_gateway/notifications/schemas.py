"""API shapes of the outbox as the bureau sees it."""

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from services.bank_gateway.models import DeliveryKind, DeliveryStatus


class DeliveryPublic(BaseModel):
    id: uuid.UUID
    webhook_id: str = Field(description="The webhook-id header: msg_<id>")
    kind: DeliveryKind
    event_type: str
    bank_code: str | None
    application_id: uuid.UUID | None
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    last_status_code: int | None
    created_at: datetime
    delivered_at: datetime | None
    ended_at: datetime | None
    payload: dict[str, Any]


class DeliveryPage(BaseModel):
    items: list[DeliveryPublic]
    total: int
    offset: int
    limit: int
