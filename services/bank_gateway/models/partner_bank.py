import uuid
from datetime import datetime

from sqlmodel import Field

from services.bank_gateway.models.base import GatewayModel
from shared.clock import utcnow
from shared.db import UTCDateTime


class PartnerBank(GatewayModel, table=True):
    """A partner bank and its OAuth2 client (secret kept only as an argon2 hash)."""

    __tablename__ = "partner_banks"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    code: str = Field(max_length=40, unique=True, description="Short stable id, e.g. srcb")
    name: str = Field(max_length=200, description="银行名称")
    webhook_url: str | None = Field(default=None, max_length=500)
    active: bool = True
    client_id: str | None = Field(default=None, max_length=80, unique=True)
    client_secret_hash: str | None = Field(default=None, max_length=200)
    client_secret_set_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
