"""The audit log: who changed what and when, for the bureau."""

from typing import Annotated

from fastapi import APIRouter, Query

from services.guarantee.audit import service
from services.guarantee.audit.schemas import AuditPage
from services.guarantee.deps import BureauDep, SessionDep
from shared.api import AUTH_PROBLEMS, Limit, Offset
from shared.errors import (
    ValidationFailed,
    problem_responses,
)

audit = APIRouter(prefix="/v1/audit", tags=["audit"])


@audit.get(
    "", response_model=AuditPage, responses=problem_responses(*AUTH_PROBLEMS, ValidationFailed)
)
async def audit_log(
    session: SessionDep,
    principal: BureauDep,
    entity_id: Annotated[str | None, Query(max_length=64)] = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> AuditPage:
    """Who changed what and when, newest first; optionally for one policy version or job."""
    return await service.audit_log(session=session, entity_id=entity_id, offset=offset, limit=limit)
