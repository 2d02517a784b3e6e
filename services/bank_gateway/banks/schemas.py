"""API shapes of partner banks and their credentials."""

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, StringConstraints

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
