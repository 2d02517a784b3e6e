from datetime import datetime

from pydantic import BaseModel, ConfigDict


class StaffPublic(BaseModel):
    username: str
    display_name: str
    role: str
    approver: bool
    active: bool
    last_login_at: datetime | None


class StaffUpdate(BaseModel):
    """Deactivating ends every session of the clerk at once; withdrawing the approver right
    takes effect on their next request (shared/sessions.py)."""

    model_config = ConfigDict(extra="forbid")

    active: bool | None = None
    approver: bool | None = None
