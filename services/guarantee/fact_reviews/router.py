"""Firms' requests for review of a declared benefit: sent by loan_intake for the firm, read
and decided by the bureau in the console."""

import uuid

from fastapi import APIRouter, Response

from services.guarantee.deps import BureauDep, IntakeCallerDep, SessionDep, StaffOrIntakeDep
from services.guarantee.fact_reviews import service
from services.guarantee.fact_reviews.exceptions import (
    ReviewInvalid,
    ReviewNotFound,
    ReviewStateConflict,
)
from services.guarantee.fact_reviews.schemas import (
    FactReviewCreate,
    FactReviewDecision,
    FactReviewPage,
    FactReviewPublic,
    ReviewStatus,
)
from shared.api import AUTH_PROBLEMS, BODY_PROBLEMS, Limit, Offset
from shared.clock import shanghai_today
from shared.errors import ApprovePermissionRequired, problem_responses

fact_reviews = APIRouter(prefix="/v1/fact-reviews", tags=["reference lists"])


@fact_reviews.post(
    "",
    status_code=201,
    response_model=FactReviewPublic,
    responses={
        200: {"description": "A request for this benefit is already pending: that one"},
        **problem_responses(*AUTH_PROBLEMS, *BODY_PROBLEMS),
    },
)
async def request_review(
    body: FactReviewCreate, response: Response, session: SessionDep, principal: IntakeCallerDep
) -> FactReviewPublic:
    """The firm asks the bureau to check its certificate (sent by loan_intake)."""
    review, created = await service.request(session=session, principal=principal, body=body)
    if not created:
        response.status_code = 200
    return review


@fact_reviews.get("", response_model=FactReviewPage, responses=problem_responses(*AUTH_PROBLEMS))
async def list_reviews(
    session: SessionDep,
    principal: StaffOrIntakeDep,
    status: ReviewStatus | None = None,
    application_id: uuid.UUID | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> FactReviewPage:
    """Pending first, the oldest first."""
    return await service.page(
        session=session,
        status=status,
        application_id=application_id,
        offset=offset,
        limit=limit,
    )


@fact_reviews.get(
    "/{review_id}",
    response_model=FactReviewPublic,
    responses=problem_responses(*AUTH_PROBLEMS, ReviewNotFound),
)
async def get_review(
    review_id: uuid.UUID, session: SessionDep, principal: BureauDep
) -> FactReviewPublic:
    return await service.get(session=session, review_id=review_id)


DECISION_PROBLEMS = (
    *AUTH_PROBLEMS,
    *BODY_PROBLEMS,
    ReviewNotFound,
    ReviewStateConflict,
    ReviewInvalid,
    ApprovePermissionRequired,
)


@fact_reviews.post(
    "/{review_id}/acceptance",
    response_model=FactReviewPublic,
    responses=problem_responses(*DECISION_PROBLEMS),
)
async def accept_review(
    review_id: uuid.UUID, body: FactReviewDecision, session: SessionDep, principal: BureauDep
) -> FactReviewPublic:
    """复核通过 (a bureau approver): the firm in the bureau's register from today."""
    return await service.decide(
        session=session,
        principal=principal,
        review_id=review_id,
        accept=True,
        note=body.note,
        valid_to=body.valid_to,
        today=shanghai_today(),
    )


@fact_reviews.post(
    "/{review_id}/rejection",
    response_model=FactReviewPublic,
    responses=problem_responses(*DECISION_PROBLEMS),
)
async def reject_review(
    review_id: uuid.UUID, body: FactReviewDecision, session: SessionDep, principal: BureauDep
) -> FactReviewPublic:
    """复核未通过, with why (the firm reads it)."""
    return await service.decide(
        session=session,
        principal=principal,
        review_id=review_id,
        accept=False,
        note=body.note,
        valid_to=None,
        today=shanghai_today(),
    )
