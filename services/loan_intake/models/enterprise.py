from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from services.loan_intake.models.base import IntakeModel
from shared.clock import utcnow
from shared.db import JSONType, UTCDateTime


class Enterprise(IntakeModel, table=True):
    __tablename__ = "enterprises"

    id: int | None = Field(default=None, primary_key=True)
    uscc: str = Field(max_length=18, unique=True)
    name: str = Field(max_length=200)
    registered_district: str = Field(max_length=50)
    industry_code: str | None = Field(default=None, max_length=8)
    sme_sector: str = Field(max_length=40)
    sme_size: str = Field(max_length=10)
    employees: int
    annual_revenue_fen: int = Field(sa_type=sa.BigInteger)
    total_assets_fen: int = Field(sa_type=sa.BigInteger)
    established_on: date
    flags: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
