import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from services.loan_intake.models.base import IntakeModel
from shared.clock import utcnow
from shared.db import JSONType, UTCDateTime


class ApplicationEvent(IntakeModel, table=True):
    """One status change: who, when, why. Appended, never updated."""

    __tablename__ = "application_events"

    id: int | None = Field(default=None, primary_key=True)
    application_id: uuid.UUID = Field(foreign_key="applications.id", index=True)
    from_status: str | None = Field(default=None, max_length=20)
    to_status: str = Field(max_length=20)
    actor: str = Field(max_length=200)
    reason: str = Field(max_length=1000)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Set when the change came from the bank gateway: the same update again is a no-op.
    update_id: uuid.UUID | None = Field(default=None, unique=True)
    details: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    # The tamper-evident chain (shared/audit.py): empty until the sealer reaches the row.
    chain_seq: int | None = Field(default=None, sa_type=sa.BigInteger, unique=True)
    prev_hash: str | None = Field(default=None, max_length=64)
    chain_hash: str | None = Field(default=None, max_length=64)
