"""Asking a token's issuer whether the session behind it still stands (issue 14, item 4).

A service that accepts another service's human tokens (the guarantee service and
loan_intake take the gateway's bureau and admin tokens) asks the issuer, with its own
service token, about the *session* — never sending the token itself — and caches the
answer for seconds: logged out, the account deactivated, or its current permissions.
"""

from pydantic import BaseModel, ConfigDict, Field


class SessionQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    session: str = Field(min_length=1, max_length=64)
    subject: str = Field(min_length=1, max_length=100)
    role: str = Field(max_length=20)
    tenant: str | None = Field(default=None, max_length=40)
    account: str | None = Field(default=None, max_length=40)


class SessionState(BaseModel):
    """``active`` false: the session was ended or the account deactivated. ``permissions``
    and ``name`` as the account has them now (None: as the token says)."""

    active: bool
    permissions: list[str] | None = None
    name: str | None = None
