"""API shapes of policy versions: the versions, drafting and checking a document, the
readable diff, submission and the four-eyes decision."""

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.guarantee.models import PolicyStatus
from shared.errors import FieldError


class PolicyVersionSummary(BaseModel):
    id: uuid.UUID
    name: str
    version: int
    status: PolicyStatus
    status_zh: str
    in_force: bool = Field(description="In force today (Asia/Shanghai)")
    effective_from: date | None
    effective_to: date | None
    content_hash: str
    based_on_id: uuid.UUID | None
    note: str
    created_by: str
    created_at: datetime
    updated_at: datetime
    submitted_by: str | None
    submitted_at: datetime | None
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None


class PolicyVersionPublic(PolicyVersionSummary):
    document: dict[str, Any]


class PolicyVersionPage(BaseModel):
    items: list[PolicyVersionSummary]
    total: int
    offset: int
    limit: int


class PolicyCreate(BaseModel):
    """A new draft: a copy of an existing version, or an imported document (JSON or YAML)."""

    model_config = ConfigDict(extra="forbid")

    from_version_id: uuid.UUID | None = Field(None, description="Copy this version's document")
    document: dict[str, Any] | None = Field(None, description="The policy document as JSON")
    yaml: str | None = Field(None, max_length=200_000, description="The document as YAML text")
    note: str = Field("", max_length=2000, description="What this version changes and why")


class PolicyDocumentUpdate(BaseModel):
    """Replace a draft's document (JSON or YAML)."""

    model_config = ConfigDict(extra="forbid")

    document: dict[str, Any] | None = None
    yaml: str | None = Field(None, max_length=200_000)
    note: str | None = Field(None, max_length=2000)


class PolicyCheck(BaseModel):
    """Check a document without saving it."""

    model_config = ConfigDict(extra="forbid")

    document: dict[str, Any] | None = None
    yaml: str | None = Field(None, max_length=200_000)


class PolicyCheckResult(BaseModel):
    valid: bool
    content_hash: str
    errors: list[FieldError]


class PolicySubmission(BaseModel):
    model_config = ConfigDict(extra="forbid")

    effective_from: date = Field(description="First day in force (Asia/Shanghai); not in the past")


class PolicyDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(None, max_length=2000, description="Required when rejecting")


class PolicyChange(BaseModel):
    path: str = Field(description="Where, e.g. rules[amount_within_cap].when")
    change: str = Field(description="added | removed | changed")
    before: Any = None
    after: Any = None


class PolicyDiff(BaseModel):
    from_version: int
    to_version: int
    from_id: uuid.UUID
    to_id: uuid.UUID
    changes: list[PolicyChange]
