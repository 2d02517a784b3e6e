import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from services.bank_gateway.models.base import GatewayModel
from shared.clock import utcnow
from shared.db import JSONType, UTCDateTime


class ReceivedEvent(GatewayModel, table=True):
    """Every event a bank sent, under its key (``webhook-id``, or the event's ``id`` in the
    bulk form): the same key again gets the same answer and has no second effect."""

    __tablename__ = "received_events"
    __table_args__ = (
        sa.UniqueConstraint("bank_id", "event_key", name="uq_received_events_bank_key"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    bank_id: uuid.UUID = Field(foreign_key="partner_banks.id")
    event_key: str = Field(max_length=100)
    event_type: str = Field(max_length=50)
    loan_id: uuid.UUID | None = Field(default=None, index=True)
    status: str = Field(max_length=20, index=True)  # applied | held | refused
    payload: dict[str, Any] = Field(sa_type=JSONType)
    problem: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    # The first answer, given again to a repeat of the same key.
    answer_status: str = Field(default="refused", max_length=20)
    answer_loan_state: str | None = Field(default=None, max_length=20)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    applied_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
