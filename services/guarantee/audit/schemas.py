"""API shapes of the audit log as the bureau reads it."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class AuditEntryPublic(BaseModel):
    id: int
    occurred_at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str
    detail: dict[str, Any]


class AuditPage(BaseModel):
    items: list[AuditEntryPublic]
    total: int
    offset: int
    limit: int
