"""Tables and API shapes of the guarantee service."""

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from shared.clock import utcnow
from shared.contracts.assessment import Decision, ProposedTerms, Reason
from shared.db import JSONType, UTCDateTime, new_registry


class GuaranteeModel(SQLModel, registry=new_registry()):
    """Root of the guarantee service's models; its own metadata."""


class PolicyVersion(GuaranteeModel, table=True):
    """One immutable version of a guarantee policy (the document is the policy)."""

    __tablename__ = "policy_versions"
    __table_args__ = (
        sa.UniqueConstraint("name", "version", name="uq_policy_versions_name_version"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=200)
    version: int
    status: str = Field(max_length=20, index=True)  # draft | active | retired
    document: dict[str, Any] = Field(sa_type=JSONType)
    content_hash: str = Field(max_length=64)
    effective_from: date
    effective_to: date | None = None
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Assessment(GuaranteeModel, table=True):
    """A decision on one application, with everything needed to reproduce it."""

    __tablename__ = "assessments"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    application_id: uuid.UUID = Field(unique=True)
    fingerprint: str = Field(max_length=64)
    request: dict[str, Any] = Field(sa_type=JSONType)
    policy_version_id: uuid.UUID = Field(foreign_key="policy_versions.id", index=True)
    policy_hash: str = Field(max_length=64)
    as_of: date = Field(index=True)
    decision: str = Field(max_length=20)
    score: int
    reasons: list[dict[str, Any]] = Field(sa_type=JSONType)
    terms: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    trace: dict[str, Any] = Field(sa_type=JSONType)
    requested_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PolicyVersionPublic(GuaranteeModel):
    id: uuid.UUID
    name: str
    version: int
    status: str
    effective_from: date
    effective_to: date | None
    content_hash: str
    created_by: str
    created_at: datetime
    document: dict[str, Any]


class AssessmentPublic(GuaranteeModel):
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
