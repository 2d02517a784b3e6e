"""Assessments: one application, or a batch from loan_intake's outbox; read and replayed."""

import uuid

from asgi_correlation_id import correlation_id
from fastapi import APIRouter, Response

from services.guarantee.assessments import service
from services.guarantee.assessments.exceptions import (
    AssessmentConflict,
    AssessmentNotFound,
    AssessmentNotReplayable,
)
from services.guarantee.assessments.schemas import AssessmentPublic, AssessmentReplay
from services.guarantee.deps import AssessorDep, IntakeCallerDep, SessionDep, StaffDep
from services.guarantee.policies.exceptions import NoPolicyInForce
from shared.api import AUTH_PROBLEMS, BODY_PROBLEMS
from shared.contracts.assessment import (
    ApplicationsLapsed,
    AssessmentBatch,
    AssessmentBatchResult,
    AssessmentPreview,
    AssessmentRequest,
    AssessmentResult,
    LapsesRecorded,
)
from shared.errors import (
    ValidationFailed,
    problem_responses,
)

assessments = APIRouter(prefix="/v1/assessments", tags=["assessments"])


@assessments.post(
    "/preview",
    response_model=AssessmentPreview,
    responses=problem_responses(*AUTH_PROBLEMS, *BODY_PROBLEMS, NoPolicyInForce),
)
async def preview(
    request: AssessmentRequest, session: SessionDep, principal: AssessorDep
) -> AssessmentPreview:
    """预审: what the policy in force would decide now, with the caps that apply to the
    firm — nothing is recorded and nothing counts against the firm's cap."""
    return await service.preview(session=session, request=request)


@assessments.post(
    "",
    status_code=201,
    response_model=AssessmentResult,
    responses={
        200: {"description": "Already assessed: the first assessment", "model": AssessmentResult},
        **problem_responses(*AUTH_PROBLEMS, *BODY_PROBLEMS, AssessmentConflict, NoPolicyInForce),
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
    responses=problem_responses(*AUTH_PROBLEMS, *BODY_PROBLEMS),
)
async def assess_batch(
    batch: AssessmentBatch, session: SessionDep, principal: IntakeCallerDep
) -> AssessmentBatchResult:
    """Assess up to 500 applications at once; each gets a result or a problem of its own."""
    outcomes = await service.assess_batch(session=session, principal=principal, items=batch.items)
    return AssessmentBatchResult(outcomes=outcomes)


@assessments.post(
    "/lapses",
    response_model=LapsesRecorded,
    responses=problem_responses(*AUTH_PROBLEMS, *BODY_PROBLEMS),
)
async def record_lapses(
    lapsed: ApplicationsLapsed, session: SessionDep, principal: IntakeCallerDep
) -> LapsesRecorded:
    """loan_intake tells which applications will never be lent (withdrawn, declined,
    ineligible on review): their amounts stop counting against their firms' 在保余额 cap.
    Idempotent."""
    recorded = await service.record_lapses(session=session, application_ids=lapsed.application_ids)
    return LapsesRecorded(recorded=recorded)


@assessments.get(
    "/{assessment_id}",
    response_model=AssessmentPublic,
    responses=problem_responses(*AUTH_PROBLEMS, AssessmentNotFound, ValidationFailed),
)
async def get_assessment(
    assessment_id: uuid.UUID, session: SessionDep, principal: StaffDep
) -> AssessmentPublic:
    """One assessment with its input snapshot, policy hash and full rule trace."""
    return await service.get_assessment(session=session, assessment_id=assessment_id)


@assessments.get(
    "/{assessment_id}/replay",
    response_model=AssessmentReplay,
    responses=problem_responses(
        *AUTH_PROBLEMS, AssessmentNotFound, AssessmentNotReplayable, ValidationFailed
    ),
)
async def replay_assessment(
    assessment_id: uuid.UUID, session: SessionDep, principal: StaffDep
) -> AssessmentReplay:
    """Assess the stored input again under its version and date; say whether all agrees."""
    return await service.replay(session=session, assessment_id=assessment_id)
