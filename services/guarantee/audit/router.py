"""The audit log: who changed what and when, for the bureau."""

from typing import Annotated

from fastapi import APIRouter, Query

from services.guarantee.audit import service
from services.guarantee.audit.schemas import AuditPage
from services.guarantee.deps import BureauDep, SessionDep
from shared.errors import (
    Forbidden,
    InvalidRequest,
    PayloadTooLarge,
    Unauthenticated,
    UnsupportedMediaType,
    ValidationFailed,
    problem_responses,
)

audit = APIRouter(prefix="/v1/audit", tags=["audit"])

_AUTH = (Unauthenticated, Forbidden)
_BODY = (InvalidRequest, PayloadTooLarge, UnsupportedMediaType, ValidationFailed)
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
Limit = Annotated[int, Query(ge=1, le=200)]


@audit.get("", response_model=AuditPage, responses=problem_responses(*_AUTH, ValidationFailed))
async def audit_log(
    session: SessionDep,
    principal: BureauDep,
    entity_id: Annotated[str | None, Query(max_length=64)] = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> AuditPage:
    """Who changed what and when, newest first; optionally for one policy version or job."""
    return await service.audit_log(session=session, entity_id=entity_id, offset=offset, limit=limit)
