"""API shapes of assessments: one with its trace, and a replay's verdict."""

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from shared.contracts.assessment import Decision, ProposedTerms, Reason


class AssessmentPublic(BaseModel):
    id: uuid.UUID
    application_id: uuid.UUID
    decision: Decision
    score: int
    reasons: list[Reason]
    terms: ProposedTerms | None
    policy_version_id: uuid.UUID
    policy_hash: str
    as_of: date
    trace: dict[str, Any]
    requested_by: str
    created_at: datetime


class AssessmentReplay(BaseModel):
    assessment_id: uuid.UUID
    policy_version_id: uuid.UUID
    policy_hash: str
    policy_hash_matches: bool
    identical: bool = Field(description="Same decision, score, reasons, terms and trace")
    differences: list[str]
