import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from services.guarantee.models.base import GuaranteeModel
from shared.clock import utcnow
from shared.db import JSONType, UTCDateTime


class WhatIfStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class WhatIfJob(GuaranteeModel, table=True):
    """A replay of stored assessments of a period under another policy version."""

    __tablename__ = "whatif_jobs"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    policy_version_id: uuid.UUID = Field(foreign_key="policy_versions.id", index=True)
    policy_hash: str = Field(max_length=64)
    # A list version tried as if in force (replacing its series' earlier one), under the
    # policy version above; None: the policy version itself is tried.
    reference_list_id: uuid.UUID | None = Field(default=None, foreign_key="reference_lists.id")
    period_from: date
    period_to: date
    status: str = Field(max_length=20, index=True)
    total: int = 0
    processed: int = 0
    summary: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    error: str | None = Field(default=None, max_length=2000)
    attempts: int = 0
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    requested_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WhatIfChange(GuaranteeModel, table=True):
    """One application whose decision, score or terms would differ under the job's version."""

    __tablename__ = "whatif_changes"
    __table_args__ = (
        sa.UniqueConstraint("job_id", "assessment_id", name="uq_whatif_changes_job_assessment"),
    )

    id: int | None = Field(default=None, primary_key=True)
    job_id: uuid.UUID = Field(foreign_key="whatif_jobs.id", index=True)
    assessment_id: uuid.UUID
    application_id: uuid.UUID
    as_of: date
    decision_before: str = Field(max_length=20)
    decision_after: str = Field(max_length=20)
    score_before: int
    score_after: int
    differences: dict[str, Any] = Field(sa_type=JSONType)
