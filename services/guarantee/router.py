import uuid
from datetime import date
from typing import Annotated

from asgi_correlation_id import correlation_id
from fastapi import APIRouter, Query, Response

from services.guarantee import service
from services.guarantee.deps import AssessorDep, ServiceCallerDep, SessionDep, StaffDep
from services.guarantee.exceptions import AssessmentConflict, AssessmentNotFound, NoPolicyInForce
from services.guarantee.models import AssessmentPublic, PolicyVersionPublic
from shared.clock import shanghai_today
from shared.contracts.assessment import (
    AssessmentBatch,
    AssessmentBatchResult,
    AssessmentRequest,
    AssessmentResult,
)
from shared.errors import (
    Forbidden,
    InvalidRequest,
    PayloadTooLarge,
    Unauthenticated,
    UnsupportedMediaType,
    ValidationFailed,
    problem_responses,
)

assessments = APIRouter(prefix="/v1/assessments", tags=["assessments"])
policies = APIRouter(prefix="/v1/policies", tags=["policies"])

_AUTH = (Unauthenticated, Forbidden)
_BODY = (InvalidRequest, PayloadTooLarge, UnsupportedMediaType, ValidationFailed)


@assessments.post(
    "",
    status_code=201,
    response_model=AssessmentResult,
    responses={
        200: {"description": "Already assessed: the first assessment", "model": AssessmentResult},
        **problem_responses(*_AUTH, *_BODY, AssessmentConflict, NoPolicyInForce),
    },
)
async def assess(
    request: AssessmentRequest, session: SessionDep, principal: AssessorDep, response: Response
) -> AssessmentResult:
    """Assess one application under the policy in force on its as-of date."""
    result, created = await service.assess_one(
        session=session, principal=principal, request=request, request_id=correlation_id.get()
    )
    if not created:
        response.status_code = 200
    return result


@assessments.post(
    "/batch",
    response_model=AssessmentBatchResult,
    responses=problem_responses(*_AUTH, *_BODY),
)
async def assess_batch(
    batch: AssessmentBatch, session: SessionDep, principal: ServiceCallerDep
) -> AssessmentBatchResult:
    """Assess up to 500 applications at once; each gets a result or a problem of its own."""
    outcomes = await service.assess_batch(session=session, principal=principal, items=batch.items)
    return AssessmentBatchResult(outcomes=outcomes)


@assessments.get(
    "/{assessment_id}",
    response_model=AssessmentPublic,
    responses=problem_responses(*_AUTH, AssessmentNotFound, ValidationFailed),
)
async def get_assessment(
    assessment_id: uuid.UUID, session: SessionDep, principal: StaffDep
) -> AssessmentPublic:
    """One assessment with its input snapshot, policy hash and full rule trace."""
    return await service.get_assessment(session=session, assessment_id=assessment_id)


@policies.get("", response_model=list[PolicyVersionPublic], responses=problem_responses(*_AUTH))
async def list_policies(session: SessionDep, principal: StaffDep) -> list[PolicyVersionPublic]:
    """All policy versions."""
    return await service.list_policies(session=session)


@policies.get(
    "/in-force",
    response_model=PolicyVersionPublic,
    responses=problem_responses(*_AUTH, NoPolicyInForce, ValidationFailed),
)
async def policy_in_force(
    session: SessionDep,
    principal: StaffDep,
    on: Annotated[date | None, Query(description="Date (Asia/Shanghai); today if omitted")] = None,
) -> PolicyVersionPublic:
    """The policy version in force on a date."""
    return await service.get_policy_in_force(session=session, on=on or shanghai_today())
