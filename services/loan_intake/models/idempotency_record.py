from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from services.loan_intake.models.base import IntakeModel
from shared.clock import utcnow
from shared.db import JSONType, UTCDateTime


class IdempotencyRecord(IntakeModel, table=True):
    """IETF draft-ietf-httpapi-idempotency-key-header: one stored response per client key."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (sa.UniqueConstraint("client", "key", name="uq_idempotency_keys_client_key"),)

    id: int | None = Field(default=None, primary_key=True)
    client: str = Field(max_length=200)
    key: str = Field(max_length=200)
    fingerprint: str = Field(max_length=64)
    status_code: int
    response: dict[str, Any] = Field(sa_type=JSONType)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
