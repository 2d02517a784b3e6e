"""Tables and API shapes of the bank gateway."""

import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel

from shared.clock import utcnow
from shared.db import UTCDateTime, new_registry


class GatewayModel(SQLModel, registry=new_registry()):
    """Root of the bank gateway's models; its own metadata."""


class PartnerBankBase(GatewayModel):
    code: str = Field(max_length=40, unique=True, description="Short stable id, e.g. srcb")
    name: str = Field(max_length=200, description="银行名称")
    webhook_url: str | None = Field(default=None, max_length=500)


class PartnerBank(PartnerBankBase, table=True):
    __tablename__ = "partner_banks"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PartnerBankPublic(GatewayModel):
    id: uuid.UUID
    code: str
    name: str
    webhook_url: str | None
    active: bool
    created_at: datetime
