from datetime import datetime

from sqlmodel import Field

from services.loan_intake.models.base import IntakeModel
from shared.clock import utcnow
from shared.db import UTCDateTime


class EnterpriseAccount(IntakeModel, table=True):
    """An enterprise's sign-in for the SME portal: its USCC and a password (argon2 hash)."""

    __tablename__ = "enterprise_accounts"

    id: int | None = Field(default=None, primary_key=True)
    uscc: str = Field(max_length=18, unique=True)
    enterprise_name: str = Field(max_length=200)
    contact_name: str = Field(max_length=50)
    contact_phone: str = Field(max_length=20)
    password_hash: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
