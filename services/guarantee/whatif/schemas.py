"""API shapes of what-if jobs: the request, progress and summary, the changed cases."""

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.guarantee.models import WhatIfStatus
from shared.contracts.assessment import Decision


class WhatIfCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period_from: date = Field(description="First as-of date replayed (inclusive)")
    period_to: date = Field(description="Last as-of date replayed (inclusive)")


class WhatIfJobPublic(BaseModel):
    id: uuid.UUID
    policy_version_id: uuid.UUID
    reference_list_id: uuid.UUID | None = Field(
        None, description="The list version tried as if in force (a list what-if)"
    )
    period_from: date
    period_to: date
    status: WhatIfStatus
    status_zh: str
    total: int
    processed: int
    percent: int = Field(description="0–100; 100 when done, also for an empty period")
    summary: dict[str, Any] | None
    error: str | None
    requested_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class WhatIfChangePublic(BaseModel):
    assessment_id: uuid.UUID
    application_id: uuid.UUID
    as_of: date
    decision_before: Decision
    decision_after: Decision
    score_before: int
    score_after: int
    differences: dict[str, Any]
    enterprise_uscc: str | None = None
    enterprise_name: str | None = Field(None, description="As the application named the firm")


class WhatIfChangePage(BaseModel):
    items: list[WhatIfChangePublic]
    total: int
    offset: int
    limit: int
