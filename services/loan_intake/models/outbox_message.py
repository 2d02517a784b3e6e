import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from services.loan_intake.models.base import IntakeModel
from shared.clock import utcnow
from shared.db import JSONType, UTCDateTime


class OutboxMessage(IntakeModel, table=True):
    """Work that must reach another service, written in the transaction that caused it."""

    __tablename__ = "outbox_messages"
    __table_args__ = (sa.Index("ix_outbox_messages_due", "completed_at", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    topic: str = Field(max_length=50)
    aggregate_id: uuid.UUID
    payload: dict[str, Any] = Field(sa_type=JSONType)
    request_id: str | None = Field(default=None, max_length=128)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    failed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
