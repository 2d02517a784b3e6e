"""Tables and API shapes of the bank gateway."""

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, StringConstraints
from sqlmodel import Field, SQLModel

from shared.clock import utcnow
from shared.db import JSONType, UTCDateTime, new_registry


class GatewayModel(SQLModel, registry=new_registry()):
    """Root of the bank gateway's models; its own metadata."""


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


class SigningSecret(GatewayModel, table=True):
    """A bank's Standard Webhooks secret (``whsec_…``), for its callbacks and our notices.

    Both sides must know it, so it cannot be hashed. On rotation the old one keeps working
    until ``retires_at``: a bank switches over without a moment of refused callbacks.
    """

    __tablename__ = "signing_secrets"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    bank_id: uuid.UUID = Field(foreign_key="partner_banks.id", index=True)
    secret: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    retires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AuditEntry(GatewayModel, table=True):
    """Who changed what, when."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    occurred_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor: str = Field(max_length=200)
    action: str = Field(max_length=50)
    entity_type: str = Field(max_length=50)
    entity_id: str = Field(max_length=64, index=True)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)


# --- API shapes -------------------------------------------------------------------------------

BankCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,39}$")]


class PartnerBankPublic(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    webhook_url: str | None
    active: bool
    client_id: str | None
    client_secret_set_at: datetime | None
    signing_secrets_valid: int = 0
    created_at: datetime


class PartnerBankCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: BankCode
    name: Annotated[str, StringConstraints(min_length=2, max_length=200)]
    webhook_url: AnyHttpUrl | None = None


class PartnerBankUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, StringConstraints(min_length=2, max_length=200)] | None = None
    webhook_url: AnyHttpUrl | None = None
    active: bool | None = None


class BankCredentials(BaseModel):
    """Shown once: only a hash of the client secret is kept."""

    bank: PartnerBankPublic
    client_id: str
    client_secret: str | None = None
    signing_secret: str | None = None
    signing_secret_previous_retires_at: datetime | None = None


class SigningRotation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    overlap_hours: int = Field(24, ge=0, le=168, description="How long the old secret stays valid")


class TokenResponse(BaseModel):
    """RFC 6749 §5.1."""

    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int
    scope: str


class AuditEntryPublic(BaseModel):
    id: int
    occurred_at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str
    detail: dict[str, Any]
