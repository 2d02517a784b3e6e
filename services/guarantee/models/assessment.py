import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from services.guarantee.models.base import GuaranteeModel
from shared.clock import utcnow
from shared.db import JSONType, UTCDateTime


class Assessment(GuaranteeModel, table=True):
    """A decision on one application, with everything needed to reproduce it."""

    __tablename__ = "assessments"
    # What-if replays read a period in (as_of, id) order, a page at a time.
    __table_args__ = (sa.Index("ix_assessments_as_of_id", "as_of", "id"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    application_id: uuid.UUID = Field(unique=True)
    # The firm (统一社会信用代码): its applications in flight count against its cap.
    enterprise_uscc: str = Field(max_length=18, index=True)
    fingerprint: str = Field(max_length=64)
    request: dict[str, Any] = Field(sa_type=JSONType)
    policy_version_id: uuid.UUID = Field(foreign_key="policy_versions.id", index=True)
    policy_hash: str = Field(max_length=64)
    as_of: date
    decision: str = Field(max_length=20)
    score: int
    reasons: list[dict[str, Any]] = Field(sa_type=JSONType)
    terms: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    trace: dict[str, Any] = Field(sa_type=JSONType)
    requested_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LapsedApplication(GuaranteeModel, table=True):
    """An application that will never be lent (withdrawn, declined, refused on review):
    its amount no longer counts against the firm's cap. Told by loan_intake, which owns
    applications; kept even when it arrives before the assessment."""

    __tablename__ = "lapsed_applications"

    application_id: uuid.UUID = Field(primary_key=True)
    lapsed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
