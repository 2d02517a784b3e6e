"""Policy versions: read, drafted (copy, JSON or YAML), checked, edited, diffed, exported,
submitted with a start date, and approved or sent back by a second person."""

import asyncio
import uuid
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import PlainTextResponse

from services.guarantee.deps import BureauDep, SessionDep, StaffDep, StaffOrGatewayDep
from services.guarantee.models import PolicyStatus
from services.guarantee.policies import documents, service
from services.guarantee.policies.exceptions import (
    EffectiveDateInvalid,
    NoPolicyInForce,
    PolicyInvalid,
    PolicyNotEditable,
    PolicyNotFound,
    PolicyStateConflict,
)
from services.guarantee.policies.schemas import (
    PolicyCheck,
    PolicyCheckResult,
    PolicyCreate,
    PolicyDecision,
    PolicyDiff,
    PolicyDocumentUpdate,
    PolicySubmission,
    PolicyVersionPage,
    PolicyVersionPublic,
)
from shared.api import AUTH_PROBLEMS, BODY_PROBLEMS, Limit, Offset
from shared.clock import shanghai_today
from shared.errors import (
    ApprovePermissionRequired,
    FourEyesRequired,
    ValidationFailed,
    problem_responses,
)

policies = APIRouter(prefix="/v1/policies", tags=["policies"])


@policies.get("", response_model=PolicyVersionPage, responses=problem_responses(*AUTH_PROBLEMS))
async def list_policies(
    session: SessionDep,
    principal: StaffDep,
    status: PolicyStatus | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> PolicyVersionPage:
    """Policy versions, newest first, without their documents."""
    return await service.list_versions(
        session=session,
        status=status.value if status else None,
        offset=offset,
        limit=limit,
        today=shanghai_today(),
    )


@policies.get(
    "/in-force",
    response_model=PolicyVersionPublic,
    responses=problem_responses(*AUTH_PROBLEMS, NoPolicyInForce, ValidationFailed),
)
async def policy_in_force(
    session: SessionDep,
    principal: StaffOrGatewayDep,
    on: Annotated[date | None, Query(description="Date (Asia/Shanghai); today if omitted")] = None,
) -> PolicyVersionPublic:
    """The policy version in force on a date."""
    day = on or shanghai_today()
    version = await service.in_force(session=session, on=day)
    if version is None:
        raise NoPolicyInForce(f"{day} 没有生效的担保政策")
    return await service.public(session, version, shanghai_today())


@policies.post(
    "",
    status_code=201,
    response_model=PolicyVersionPublic,
    responses=problem_responses(*AUTH_PROBLEMS, *BODY_PROBLEMS, PolicyInvalid, PolicyNotFound),
)
async def create_policy(
    payload: PolicyCreate, session: SessionDep, principal: BureauDep, response: Response
) -> PolicyVersionPublic:
    """A new draft: copied from a version, or imported as JSON (`document`) or YAML (`yaml`)."""
    created = await service.create_draft(
        session=session, principal=principal, payload=payload, today=shanghai_today()
    )
    response.headers["Location"] = f"/v1/policies/{created.id}"
    return created


@policies.post(
    "/check",
    response_model=PolicyCheckResult,
    responses=problem_responses(*AUTH_PROBLEMS, *BODY_PROBLEMS, PolicyInvalid),
)
async def check_policy(payload: PolicyCheck, principal: BureauDep) -> PolicyCheckResult:
    """Validate and compile a document without saving it: every problem, with positions."""
    # CPU work (every expression compiled and probed): in a thread, off the event loop.
    return await asyncio.to_thread(documents.check, payload.document, payload.yaml)


@policies.get(
    "/{policy_id}",
    response_model=PolicyVersionPublic,
    responses=problem_responses(*AUTH_PROBLEMS, PolicyNotFound, ValidationFailed),
)
async def get_policy(
    policy_id: uuid.UUID, session: SessionDep, principal: StaffOrGatewayDep
) -> PolicyVersionPublic:
    """One version with its document."""
    return await service.get(session=session, policy_id=policy_id, today=shanghai_today())


@policies.put(
    "/{policy_id}/document",
    response_model=PolicyVersionPublic,
    responses=problem_responses(
        *AUTH_PROBLEMS, *BODY_PROBLEMS, PolicyInvalid, PolicyNotFound, PolicyNotEditable
    ),
)
async def update_policy(
    policy_id: uuid.UUID, payload: PolicyDocumentUpdate, session: SessionDep, principal: BureauDep
) -> PolicyVersionPublic:
    """Replace a draft's document. Refused (409) once the version is submitted."""
    return await service.update_draft(
        session=session,
        principal=principal,
        policy_id=policy_id,
        payload=payload,
        today=shanghai_today(),
    )


@policies.post(
    "/{policy_id}/submission",
    response_model=PolicyVersionPublic,
    responses=problem_responses(
        *AUTH_PROBLEMS, *BODY_PROBLEMS, PolicyNotFound, PolicyStateConflict, EffectiveDateInvalid
    ),
)
async def submit_policy(
    policy_id: uuid.UUID, payload: PolicySubmission, session: SessionDep, principal: BureauDep
) -> PolicyVersionPublic:
    """Submit a draft for approval, with the date it is to take effect."""
    return await service.submit(
        session=session,
        principal=principal,
        policy_id=policy_id,
        effective_from=payload.effective_from,
        today=shanghai_today(),
    )


@policies.post(
    "/{policy_id}/approval",
    response_model=PolicyVersionPublic,
    responses=problem_responses(
        *AUTH_PROBLEMS,
        *BODY_PROBLEMS,
        PolicyNotFound,
        PolicyStateConflict,
        EffectiveDateInvalid,
        FourEyesRequired,
        ApprovePermissionRequired,
    ),
)
async def approve_policy(
    policy_id: uuid.UUID, payload: PolicyDecision, session: SessionDep, principal: BureauDep
) -> PolicyVersionPublic:
    """Approve a submitted version: a second person with the approver permission (four eyes)."""
    return await service.approve(
        session=session,
        principal=principal,
        policy_id=policy_id,
        note=payload.note,
        today=shanghai_today(),
    )


@policies.post(
    "/{policy_id}/rejection",
    response_model=PolicyVersionPublic,
    responses=problem_responses(
        *AUTH_PROBLEMS,
        *BODY_PROBLEMS,
        PolicyNotFound,
        PolicyStateConflict,
        ApprovePermissionRequired,
    ),
)
async def reject_policy(
    policy_id: uuid.UUID, payload: PolicyDecision, session: SessionDep, principal: BureauDep
) -> PolicyVersionPublic:
    """Send a submitted version back, with the reason (`note`)."""
    return await service.reject(
        session=session,
        principal=principal,
        policy_id=policy_id,
        note=payload.note,
        today=shanghai_today(),
    )


@policies.get(
    "/{policy_id}/export",
    response_class=PlainTextResponse,
    responses={
        200: {"content": {"application/yaml": {}, "application/json": {}}},
        **problem_responses(*AUTH_PROBLEMS, PolicyNotFound, ValidationFailed),
    },
)
async def export_policy(
    policy_id: uuid.UUID,
    session: SessionDep,
    principal: StaffDep,
    format: Literal["yaml", "json"] = "yaml",
) -> Response:
    """The document as YAML or JSON, ready to import elsewhere."""
    version = await service.get_version(session=session, policy_id=policy_id)
    media_type = "application/yaml" if format == "yaml" else "application/json"
    return Response(
        documents.export(version, format),
        media_type=f"{media_type}; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="policy-v{version.version}.{format}"'
        },
    )


@policies.get(
    "/{policy_id}/diff",
    response_model=PolicyDiff,
    responses=problem_responses(*AUTH_PROBLEMS, PolicyNotFound, ValidationFailed),
)
async def diff_policy(
    policy_id: uuid.UUID,
    session: SessionDep,
    principal: StaffDep,
    against: Annotated[
        uuid.UUID | None,
        Query(description="The version to compare with; the one it was drafted from if omitted"),
    ] = None,
) -> PolicyDiff:
    """What changed from another version (or the version it was drafted from) to this one."""
    if against is None:
        version = await service.get_version(session=session, policy_id=policy_id)
        against = version.based_on_id or version.id
    return await service.diff(session=session, from_id=against, to_id=policy_id)
