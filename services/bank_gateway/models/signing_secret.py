import uuid
from datetime import datetime

from sqlmodel import Field

from services.bank_gateway.models.base import GatewayModel
from shared.clock import utcnow
from shared.db import UTCDateTime
from shared.sealed import SealedString


class SigningSecret(GatewayModel, table=True):
    """A bank's Standard Webhooks secret (``whsec_…``), for its callbacks and our notices.

    Both sides must know it, so it cannot be hashed: it is stored sealed. On rotation the
    old one keeps working until ``retires_at``: a bank switches over without a moment of
    refused callbacks.
    """

    __tablename__ = "signing_secrets"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    bank_id: uuid.UUID = Field(foreign_key="partner_banks.id", index=True)
    # Sealed at rest with the key directory's sealing keys (shared/sealed.py).
    secret: str = Field(sa_type=SealedString)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    retires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
