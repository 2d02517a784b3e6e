from datetime import datetime

from sqlmodel import Field

from services.loan_intake.models.base import IntakeModel
from shared.clock import utcnow
from shared.db import UTCDateTime


class PasswordReset(IntakeModel, table=True):
    """A code sent to a verified account's phone to set a new password: kept hashed, short
    lived, used once, a few tries."""

    __tablename__ = "password_resets"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="enterprise_accounts.id", index=True)
    code_hash: str = Field(max_length=200)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    attempts: int = 0
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
