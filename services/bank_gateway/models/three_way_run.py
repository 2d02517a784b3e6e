import uuid
from datetime import datetime
from typing import Any

from sqlmodel import Field

from services.bank_gateway.models.base import GatewayModel
from shared.clock import utcnow
from shared.db import JSONType, UTCDateTime


class ThreeWayRun(GatewayModel, table=True):
    """One three-way reconciliation of the whole portfolio (三方对账), asked for by a clerk or
    due on the schedule, run by the gateway's worker; the console shows the last one kept.
    The whole portfolio is read (every lent loan, the fund and intake asked about each), so
    a page never runs it on view: at a city's size that is minutes (bench/README.md)."""

    __tablename__ = "three_way_runs"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    status: str = Field(default="queued", max_length=20, index=True)  # queued|running|done|failed
    requested_by: str = Field(max_length=200)
    requested_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The report as the API gives it (ledger/schemas.py ThreeWayReport), once done.
    report: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    error: str | None = Field(default=None, max_length=1000)
