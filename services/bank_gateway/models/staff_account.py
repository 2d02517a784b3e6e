from datetime import datetime

from sqlmodel import Field

from services.bank_gateway.models.base import GatewayModel
from shared.clock import utcnow
from shared.db import UTCDateTime


class StaffAccount(GatewayModel, table=True):
    """A console sign-in (password as argon2 hash): finance bureau staff (``bureau``) or the
    guarantee fund's (``fund``: claims review and payment)."""

    __tablename__ = "staff_accounts"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=40, unique=True)
    display_name: str = Field(max_length=50)
    password_hash: str = Field(max_length=200)
    role: str = Field(default="bureau", max_length=20)
    # The second pair of eyes: may approve batches and policy versions (bureau), confirm
    # large claims (fund).
    approver: bool = False
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
