"""Claims (代偿): filed by the bank gateway, reviewed, decided and paid by the guarantee
fund's staff; recoveries shared pro rata."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from services.guarantee.claims import documents, ledger_view, review, service
from services.guarantee.claims.exceptions import (
    ClaimConflict,
    ClaimDocumentInvalid,
    ClaimDocumentNotFound,
    ClaimDocumentUnsupported,
    ClaimInvalid,
    ClaimNotFound,
    ClaimNotReviewable,
    ClaimPaymentInvalid,
    ClaimReviewInvalid,
    ClaimTooEarly,
    ClaimTooLate,
    RecoveryConflict,
)
from services.guarantee.claims.schemas import (
    ClaimPage,
    ClaimPaymentIn,
    ClaimPublic,
    ClaimReview,
    ClaimRoom,
    SecondReview,
)
from services.guarantee.deps import ClaimReaderDep, FundDep, GatewayCallerDep, SessionDep
from services.guarantee.guarantees.exceptions import GuaranteeNotFound
from shared.api import AUTH_PROBLEMS, BODY_PROBLEMS, FILE_BODY, Limit, Offset
from shared.contracts.claims import (
    ClaimDocumentPublic,
    ClaimOutcome,
    ClaimReceipt,
    ClaimRequest,
    ClaimStatus,
    ClaimTopUpRequest,
    ClaimTopUps,
    RecoveryReport,
    RecoveryShare,
)
from shared.contracts.reconciliation import FundLoanViews, LoanIds
from shared.errors import (
    ApprovePermissionRequired,
    FourEyesRequired,
    ValidationFailed,
    problem_responses,
)

claims = APIRouter(prefix="/v1/claims", tags=["claims"])
REVIEW_PROBLEMS = (*AUTH_PROBLEMS, *BODY_PROBLEMS, ClaimNotFound, ClaimNotReviewable)


@claims.post(
    "",
    status_code=201,
    response_model=ClaimReceipt,
    responses={
        200: {"description": "Filed before: the claim as taken then", "model": ClaimReceipt},
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
) -> ClaimReceipt:
    """代偿: the bank gateway files a defaulted loan's claim. Inside the policy's window it is
    taken for the fund's review (``submitted``); outside it is refused in the policy's
    words and nothing is stored."""
    receipt, created = await service.file(session=session, request=request)
    if not created:
        response.status_code = 200
    return receipt


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


@claims.post(
    "/fund-view",
    response_model=FundLoanViews,
    responses=problem_responses(*AUTH_PROBLEMS, *BODY_PROBLEMS),
)
async def fund_view(
    request: LoanIds, session: SessionDep, principal: GatewayCallerDep
) -> FundLoanViews:
    """The fund's figures per loan — guarantee, release, claim, payment, recoveries — for the
    gateway's three-way reconciliation. Read-only."""
    return await ledger_view.fund_view(session=session, request=request)


@claims.get(
    "", response_model=ClaimPage, responses=problem_responses(*AUTH_PROBLEMS, ValidationFailed)
)
async def list_claims(
    session: SessionDep,
    principal: ClaimReaderDep,
    batch_id: uuid.UUID | None = None,
    outcome: ClaimOutcome | None = None,
    status: Annotated[list[ClaimStatus] | None, Query()] = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> ClaimPage:
    """Claims, newest filed first; by batch, outcome or status (several ``status`` for an
    inbox: submitted, under_review, awaiting_second — then oldest first, as they wait)."""
    return await service.list_claims(
        session=session,
        batch_id=batch_id,
        outcome=outcome,
        statuses=status or [],
        offset=offset,
        limit=limit,
    )


@claims.get(
    "/{loan_id}",
    response_model=ClaimPublic,
    responses=problem_responses(*AUTH_PROBLEMS, ClaimNotFound, ValidationFailed),
)
async def get_claim(
    loan_id: uuid.UUID, session: SessionDep, principal: ClaimReaderDep
) -> ClaimPublic:
    """A loan's claim: its review, the decision with its reasons, payment, recoveries."""
    return await service.get(session=session, loan_id=loan_id)


@claims.get(
    "/{loan_id}/room",
    response_model=ClaimRoom,
    responses=problem_responses(*AUTH_PROBLEMS, ClaimNotFound, ValidationFailed),
)
async def claim_room(
    loan_id: uuid.UUID, session: SessionDep, principal: ClaimReaderDep
) -> ClaimRoom:
    """What the reviewer weighs: the batch's ceiling, committed so far, the room left, and
    whether a second reviewer must confirm."""
    return await review.room(session=session, loan_id=loan_id)


@claims.post(
    "/{loan_id}/take", response_model=ClaimPublic, responses=problem_responses(*REVIEW_PROBLEMS)
)
async def take_claim(loan_id: uuid.UUID, session: SessionDep, principal: FundDep) -> ClaimPublic:
    """A reviewer of the fund takes the claim (under_review), or takes it over."""
    return await review.take(session=session, loan_id=loan_id, principal=principal)


@claims.post(
    "/{loan_id}/decision",
    response_model=ClaimPublic,
    responses=problem_responses(*REVIEW_PROBLEMS, ClaimReviewInvalid),
)
async def decide_claim(
    loan_id: uuid.UUID, body: ClaimReview, session: SessionDep, principal: FundDep
) -> ClaimPublic:
    """Approve, reduce (amount and reason) or deny (reason). Above the policy's amount it
    awaits a second reviewer; else it is decided and the bank told (``claim.decided``)."""
    return await review.decide(session=session, loan_id=loan_id, review=body, principal=principal)


@claims.post(
    "/{loan_id}/second-review",
    response_model=ClaimPublic,
    responses=problem_responses(
        *REVIEW_PROBLEMS, ClaimReviewInvalid, ApprovePermissionRequired, FourEyesRequired
    ),
)
async def second_review(
    loan_id: uuid.UUID, body: SecondReview, session: SessionDep, principal: FundDep
) -> ClaimPublic:
    """A second person of the fund (approver, not the recommender) agrees — the claim is
    decided — or sends it back to review with a note."""
    return await review.second(session=session, loan_id=loan_id, answer=body, principal=principal)


@claims.post(
    "/{loan_id}/payments",
    response_model=ClaimPublic,
    responses=problem_responses(*REVIEW_PROBLEMS, ClaimPaymentInvalid),
)
async def pay_claim(
    loan_id: uuid.UUID, body: ClaimPaymentIn, session: SessionDep, principal: FundDep
) -> ClaimPublic:
    """The fund paid what is due on the decided claim: day and voucher (``claim.paid``)."""
    return await review.pay(session=session, loan_id=loan_id, payment=body, principal=principal)


@claims.post(
    "/{loan_id}/documents",
    status_code=201,
    response_model=ClaimDocumentPublic,
    responses={
        200: {"description": "This file was kept before", "model": ClaimDocumentPublic},
        **problem_responses(
            *AUTH_PROBLEMS,
            *BODY_PROBLEMS,
            GuaranteeNotFound,
            ClaimDocumentInvalid,
            ClaimDocumentUnsupported,
        ),
    },
    openapi_extra=FILE_BODY,
)
async def upload_document(
    loan_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: GatewayCallerDep,
    response: Response,
    kind: Annotated[str, Query(min_length=1, max_length=40)],
    filename: Annotated[str, Query(min_length=1, max_length=255)],
) -> ClaimDocumentPublic:
    """A paper of the loan's claim, forwarded by the gateway from its bank: the body is the
    file (PDF, JPEG or PNG, recognised by its content), ``kind`` one of the policy's codes."""
    document, created = await documents.upload(
        session=session,
        loan_id=loan_id,
        kind=kind,
        filename=filename,
        declared_type=request.headers.get("content-type", ""),
        content=await request.body(),
        principal=principal,
    )
    if not created:
        response.status_code = 200
    return document


@claims.get(
    "/{loan_id}/documents",
    response_model=list[ClaimDocumentPublic],
    responses=problem_responses(*AUTH_PROBLEMS, GuaranteeNotFound, ValidationFailed),
)
async def list_documents(
    loan_id: uuid.UUID, session: SessionDep, principal: ClaimReaderDep
) -> list[ClaimDocumentPublic]:
    """The papers uploaded with the loan's claim, oldest first."""
    return await documents.list_for_loan(session=session, loan_id=loan_id)


@claims.get(
    "/{loan_id}/documents/{document_id}",
    response_class=Response,
    responses={
        200: {"content": {t: {} for t in ("application/pdf", "image/jpeg", "image/png")}},
        **problem_responses(*AUTH_PROBLEMS, ClaimDocumentNotFound, ValidationFailed),
    },
)
async def download_document(
    loan_id: uuid.UUID, document_id: uuid.UUID, session: SessionDep, principal: ClaimReaderDep
) -> Response:
    """The paper itself, as an attachment: never rendered in the service's own origin."""
    document = await documents.get(session=session, loan_id=loan_id, document_id=document_id)
    return Response(
        content=document.content,
        media_type=document.content_type,
        headers=documents.download_headers(document),
    )
