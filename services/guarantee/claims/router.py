"""Claims (代偿) filed by the bank gateway and decided here; recoveries shared pro rata."""

import uuid

from fastapi import APIRouter, Response

from services.guarantee.claims import service
from services.guarantee.claims.exceptions import (
    ClaimConflict,
    ClaimInvalid,
    ClaimNotFound,
    ClaimTooEarly,
    ClaimTooLate,
    RecoveryConflict,
)
from services.guarantee.claims.schemas import ClaimPage, ClaimPublic
from services.guarantee.deps import GatewayCallerDep, SessionDep, StaffDep
from services.guarantee.guarantees.exceptions import GuaranteeNotFound
from shared.api import AUTH_PROBLEMS, BODY_PROBLEMS, Limit, Offset
from shared.contracts.claims import (
    ClaimDecision,
    ClaimOutcome,
    ClaimRequest,
    ClaimTopUpRequest,
    ClaimTopUps,
    RecoveryReport,
    RecoveryShare,
)
from shared.errors import (
    ValidationFailed,
    problem_responses,
)

claims = APIRouter(prefix="/v1/claims", tags=["claims"])


@claims.post(
    "",
    status_code=201,
    response_model=ClaimDecision,
    responses={
        200: {"description": "Filed before: the decision made then", "model": ClaimDecision},
        **problem_responses(
            *AUTH_PROBLEMS,
            *BODY_PROBLEMS,
            GuaranteeNotFound,
            ClaimConflict,
            ClaimInvalid,
            ClaimTooEarly,
            ClaimTooLate,
        ),
    },
)
async def file_claim(
    request: ClaimRequest, session: SessionDep, principal: GatewayCallerDep, response: Response
) -> ClaimDecision:
    """代偿: the bank gateway files a defaulted loan's claim; it is decided at once —
    coverage × (principal + interest, capped by policy), never past the batch's ceiling."""
    decision, created = await service.decide(session=session, request=request)
    if not created:
        response.status_code = 200
    return decision


@claims.post(
    "/top-ups",
    response_model=ClaimTopUps,
    responses=problem_responses(*AUTH_PROBLEMS, *BODY_PROBLEMS),
)
async def top_up_claims(
    request: ClaimTopUpRequest, session: SessionDep, principal: GatewayCallerDep
) -> ClaimTopUps:
    """The batch's guaranteed volume grew: pay what its ceiling now allows of the claims it
    cut, oldest first (their remainders stay open until then). Answers with every claim the
    ceiling ever cut in the batch, as it stands; asking again pays nothing more."""
    return await service.top_up(session=session, batch_id=request.batch_id)


@claims.post(
    "/{loan_id}/recoveries",
    status_code=201,
    response_model=RecoveryShare,
    responses={
        200: {"description": "Recorded before: the split made then", "model": RecoveryShare},
        **problem_responses(*AUTH_PROBLEMS, *BODY_PROBLEMS, ClaimNotFound, RecoveryConflict),
    },
)
async def record_recovery(
    loan_id: uuid.UUID,
    report: RecoveryReport,
    session: SessionDep,
    principal: GatewayCallerDep,
    response: Response,
) -> RecoveryShare:
    """A recovery after a payout, split pro rata between the fund and the bank."""
    share, created = await service.record_recovery(session=session, loan_id=loan_id, report=report)
    if not created:
        response.status_code = 200
    return share


@claims.get(
    "", response_model=ClaimPage, responses=problem_responses(*AUTH_PROBLEMS, ValidationFailed)
)
async def list_claims(
    session: SessionDep,
    principal: StaffDep,
    batch_id: uuid.UUID | None = None,
    outcome: ClaimOutcome | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> ClaimPage:
    """Claims decided, newest first; by batch or outcome (paid, partially_paid, refused)."""
    return await service.list_claims(
        session=session, batch_id=batch_id, outcome=outcome, offset=offset, limit=limit
    )


@claims.get(
    "/{loan_id}",
    response_model=ClaimPublic,
    responses=problem_responses(*AUTH_PROBLEMS, ClaimNotFound, ValidationFailed),
)
async def get_claim(loan_id: uuid.UUID, session: SessionDep, principal: StaffDep) -> ClaimPublic:
    """A loan's claim: the decision with its reasons, and the recoveries split since."""
    return await service.get(session=session, loan_id=loan_id)
