import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from services.bank_gateway.models.base import GatewayModel
from shared.clock import utcnow
from shared.db import JSONType, UTCDateTime


class DeliveryKind(StrEnum):
    WEBHOOK = "webhook"  # a notification to a bank, signed per Standard Webhooks
    INTAKE = "intake"  # a loan's change, reported to loan_intake
    # To the guarantee service: a disbursed loan filed (备案), a claim, a recovery.
    GUARANTEE = "guarantee"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"  # a bank did not take it within the retry window
    FAILED = "failed"  # refused for good (4xx from loan_intake): an operator must look


class Delivery(GatewayModel, table=True):
    """The outbox: written in the same transaction as the change it tells of."""

    __tablename__ = "deliveries"
    # The outbox's "older row of this loan still pending?" check (claim_deliveries).
    __table_args__ = (sa.Index("ix_deliveries_ordering", "application_id", "kind", "status"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    kind: str = Field(max_length=20)
    event_type: str = Field(max_length=50, index=True)
    bank_id: uuid.UUID | None = Field(default=None, foreign_key="partner_banks.id", index=True)
    application_id: uuid.UUID | None = None
    payload: dict[str, Any] = Field(sa_type=JSONType)
    status: str = Field(default=DeliveryStatus.PENDING, max_length=20, index=True)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=2000)
    last_status_code: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Start of the retry window (creation, or the last redelivery by hand).
    window_from: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
