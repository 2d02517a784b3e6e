from datetime import datetime

from sqlmodel import Field

from services.loan_intake.models.base import IntakeModel
from shared.clock import utcnow
from shared.db import UTCDateTime


class EnterpriseAccount(IntakeModel, table=True):
    """A person's sign-in to the SME portal for a firm: its USCC and a password (argon2).

    Anyone may register a USCC — several people of one firm may, and registering never
    tells whether the firm is known — but an account is *unverified* until its hold on the
    firm is proven (the city's identity platform says so, ``verified_*``): until then it sees
    only what it submitted itself."""

    __tablename__ = "enterprise_accounts"

    id: int | None = Field(default=None, primary_key=True)
    uscc: str = Field(max_length=18, index=True)
    enterprise_name: str = Field(max_length=200)
    contact_name: str = Field(max_length=50)
    contact_phone: str = Field(max_length=20)
    password_hash: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # How: "一网通办 <issuer> sub=<subject>" (OpenID Connect), or the clerk who checked papers.
    verified_by: str | None = Field(default=None, max_length=300)
    # The message centre (消息): news after this instant is unread.
    messages_read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
