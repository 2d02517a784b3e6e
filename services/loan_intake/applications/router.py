"""Applications over the API: submitted by SMEs (or staff on their behalf), read, withdrawn,
referrals decided by the bureau, and loan changes reported by the bank gateway."""

import uuid
from datetime import date, timedelta
from typing import Annotated, Literal

from asgi_correlation_id import correlation_id
from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import JSONResponse

from services.loan_intake.applications import bank_filings, service, submission, updates
from services.loan_intake.applications.exceptions import (
    ApplicationNotFound,
    IdempotencyKeyReused,
    InvalidIdempotencyKey,
    NotYourEnterprise,
    TransitionNotAllowed,
)
from services.loan_intake.applications.schemas import (
    SUBMISSION_STATUS,
    ApplicationCreate,
    ApplicationPage,
    ApplicationPublic,
    Review,
    Supplement,
    Withdrawal,
)
from services.loan_intake.applications.search import Search
from services.loan_intake.deps import (
    ApplicantDep,
    GatewayDep,
    ReaderDep,
    ReviewerDep,
    SessionDep,
)
from services.loan_intake.models import ApplicationStatus
from shared.api import AUTH_PROBLEMS
from shared.clock import start_of_day
from shared.contracts.filing import BankFiledApplication
from shared.contracts.loan_status import (
    LoanStatusUpdate,
    LoanStatusUpdateBatch,
    LoanStatusUpdateBatchResult,
)
from shared.contracts.reconciliation import ApplicationIds, ApplicationStatusViews
from shared.errors import (
    InvalidRequest,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
    problem_responses,
)

router = APIRouter(prefix="/v1/applications", tags=["applications"])


@router.post(
    "",
    status_code=SUBMISSION_STATUS,
    response_model=ApplicationPublic,
    responses={
        200: {
            "description": "Replay of an earlier request with the same Idempotency-Key",
            "model": ApplicationPublic,
        },
        **problem_responses(
            *AUTH_PROBLEMS,
            InvalidRequest,
            InvalidIdempotencyKey,
            NotYourEnterprise,
            PayloadTooLarge,
            UnsupportedMediaType,
            ValidationFailed,
            IdempotencyKeyReused,
        ),
    },
)
async def submit_application(
    payload: ApplicationCreate,
    session: SessionDep,
    principal: ApplicantDep,
    idempotency_key: Annotated[
        str | None,
        Header(description="Same key + same body → the original response; different body → 422"),
    ] = None,
) -> JSONResponse:
    """Submit a loan application; it is accepted at once and assessed asynchronously."""
    submitted = await submission.submit_application(
        session=session,
        principal=principal,
        payload=payload,
        idempotency=(
            submission.IdempotencyKey(idempotency_key, SUBMISSION_STATUS)
            if idempotency_key is not None
            else None
        ),
        request_id=correlation_id.get(),
    )
    headers = {"Location": f"/v1/applications/{submitted.application_id}"}
    if submitted.replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(submitted.body, status_code=SUBMISSION_STATUS, headers=headers)


@router.get(
    "",
    response_model=ApplicationPage,
    responses=problem_responses(*AUTH_PROBLEMS, ValidationFailed),
)
async def list_applications(
    session: SessionDep,
    principal: ReaderDep,
    status: ApplicationStatus | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
    order: Annotated[Literal["newest", "oldest"], Query(description="By submission time")] = (
        "newest"
    ),
    q: Annotated[
        str | None,
        Query(max_length=100, description="申请编号 (QP-2026-000123), USCC prefix or name part"),
    ] = None,
    bank: Annotated[str | None, Query(max_length=100, description="Part of 意向银行")] = None,
    submitted_from: Annotated[date | None, Query(description="Shanghai day, inclusive")] = None,
    submitted_to: Annotated[date | None, Query(description="Shanghai day, inclusive")] = None,
    sort: Annotated[
        Literal["newest", "oldest", "amount_desc", "amount_asc"] | None,
        Query(description="Overrides order"),
    ] = None,
) -> ApplicationPage:
    """List applications, newest first (or as sorted): an SME sees its own, staff see all,
    narrowed by status, number / USCC / name, bank and submission days."""
    search = Search(
        status=status.value if status else None,
        text=q.strip() if q and q.strip() else None,
        bank=bank.strip() if bank and bank.strip() else None,
        since=start_of_day(submitted_from) if submitted_from else None,
        until=start_of_day(submitted_to + timedelta(days=1)) if submitted_to else None,
        sort=sort or order,
    )
    return await service.list_applications(
        session=session, principal=principal, page=page, page_size=page_size, search=search
    )


@router.get(
    "/{application_id}",
    response_model=ApplicationPublic,
    responses=problem_responses(*AUTH_PROBLEMS, ApplicationNotFound, ValidationFailed),
)
async def get_application(
    application_id: uuid.UUID, session: SessionDep, principal: ReaderDep
) -> ApplicationPublic:
    """One application: status, history, score, reasons and proposed terms."""
    return await service.get_application(
        session=session, principal=principal, application_id=application_id
    )


@router.post(
    "/{application_id}/withdrawal",
    response_model=ApplicationPublic,
    responses=problem_responses(
        *AUTH_PROBLEMS,
        ApplicationNotFound,
        TransitionNotAllowed,
        ValidationFailed,
        UnsupportedMediaType,
    ),
)
async def withdraw_application(
    application_id: uuid.UUID, body: Withdrawal, session: SessionDep, principal: ApplicantDep
) -> ApplicationPublic:
    """Withdraw an application before it is allocated to a batch."""
    return await service.withdraw_application(
        session=session, principal=principal, application_id=application_id, reason=body.reason
    )


@router.post(
    "/{application_id}/supplement",
    response_model=ApplicationPublic,
    responses=problem_responses(
        *AUTH_PROBLEMS,
        ApplicationNotFound,
        TransitionNotAllowed,
        ValidationFailed,
        UnsupportedMediaType,
    ),
)
async def supplement_application(
    application_id: uuid.UUID, body: Supplement, session: SessionDep, principal: ApplicantDep
) -> ApplicationPublic:
    """The firm answers 退回补充材料: back to the bureau's reviewer (待人工复核)."""
    return await service.supplement(
        session=session, principal=principal, application_id=application_id, note=body.note
    )


@router.post(
    "/{application_id}/review",
    response_model=ApplicationPublic,
    responses=problem_responses(
        *AUTH_PROBLEMS,
        ApplicationNotFound,
        TransitionNotAllowed,
        ValidationFailed,
        UnsupportedMediaType,
    ),
)
async def review_application(
    application_id: uuid.UUID, body: Review, session: SessionDep, principal: ReviewerDep
) -> ApplicationPublic:
    """The finance bureau decides an application the policy referred to it (人工复核)."""
    return await service.review_referred(
        session=session,
        principal=principal,
        application_id=application_id,
        decision=ApplicationStatus(body.decision),
        note=body.note,
    )


@router.post(
    "/bank-filed",
    response_model=ApplicationPublic,
    responses=problem_responses(*AUTH_PROBLEMS, ValidationFailed, IdempotencyKeyReused),
)
async def bank_filed(
    filing: BankFiledApplication, request: Request, principal: GatewayDep
) -> ApplicationPublic:
    """见贷即保: the bank gateway files, for a bank, the application of a loan the bank
    approved and lent itself. Recorded and assessed at once (status eligible, ineligible or
    referred with the reasons; still assessing if the guarantee service did not answer in
    time). The same bank and reference again answer with the application as it stands;
    another body under them is refused."""
    return await bank_filings.file(
        sessionmaker=request.app.state.sessionmaker,
        principal=principal,
        filing=filing,
        handoff=request.app.state.dispatcher,
        request_id=correlation_id.get(),
    )


@router.post(
    "/loan-updates",
    response_model=LoanStatusUpdateBatchResult,
    responses=problem_responses(
        *AUTH_PROBLEMS, ValidationFailed, UnsupportedMediaType, PayloadTooLarge
    ),
)
async def loan_updates(
    batch: LoanStatusUpdateBatch, session: SessionDep, principal: GatewayDep
) -> LoanStatusUpdateBatchResult:
    """Up to 500 loan changes from the bank gateway, applied in order, each on its own:
    applied, duplicate (its `update_id` was recorded before), refused (unknown application,
    or a change the state machine does not allow) or skipped (after a refused one of the
    same application)."""
    results = await updates.apply_loan_updates(
        session=session, principal=principal, updates=batch.updates
    )
    return LoanStatusUpdateBatchResult(results=results)


@router.post(
    "/statuses",
    response_model=ApplicationStatusViews,
    responses=problem_responses(*AUTH_PROBLEMS, ValidationFailed, UnsupportedMediaType),
)
async def statuses(
    request: ApplicationIds, session: SessionDep, principal: GatewayDep
) -> ApplicationStatusViews:
    """Each application's status as the SME sees it, for the gateway's three-way
    reconciliation (up to 500; an unknown id is left out). Read-only."""
    return await updates.statuses(session=session, ids=request.ids)


@router.post(
    "/{application_id}/loan-updates",
    response_model=ApplicationPublic,
    responses=problem_responses(
        *AUTH_PROBLEMS,
        ApplicationNotFound,
        TransitionNotAllowed,
        ValidationFailed,
        UnsupportedMediaType,
    ),
)
async def loan_update(
    application_id: uuid.UUID,
    update: LoanStatusUpdate,
    session: SessionDep,
    principal: GatewayDep,
    response: Response,
) -> ApplicationPublic:
    """The bank gateway reports a change in the loan's life (service token only).

    Idempotent on `update_id`: the same update again answers 200 and changes nothing."""
    application, changed = await updates.apply_loan_update(
        session=session, principal=principal, application_id=application_id, update=update
    )
    response.status_code = 201 if changed else 200
    return application
