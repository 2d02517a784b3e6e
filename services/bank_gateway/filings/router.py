"""见贷即保: a bank files a loan it approved and lent itself, signed like its callbacks."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from services.bank_gateway.banks.exceptions import SignatureInvalid
from services.bank_gateway.banks.signatures import CallerBank, verify_signature
from services.bank_gateway.batches.exceptions import BatchNotFound, IntakeUnavailableProblem
from services.bank_gateway.deps import BankDep, IntakeDep, SessionDep
from services.bank_gateway.filings import service
from services.bank_gateway.filings.exceptions import (
    FilingIneligible,
    FilingNotAccepted,
    FilingPending,
)
from services.bank_gateway.filings.schemas import (
    BankFiling,
    BankFilings,
    BulkFilingResult,
    FilingAccepted,
)
from shared.api import AUTH_PROBLEMS
from shared.errors import (
    InvalidRequest,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
    problem_responses,
)

filings = APIRouter(prefix="/v1/bank/filings", tags=["bank filings"])


async def _signed_by(request: Request, session: SessionDep, principal: BankDep) -> CallerBank:
    """The bank, if it signed the body as it signs its callbacks."""
    return await verify_signature(
        session=session,
        banks=request.app.state.caller_banks,
        code=principal.tenant or "",
        body=await request.body(),  # the bytes signed (kept by Starlette once read)
        headers=request.headers,
    )


@filings.post(
    "",
    status_code=201,
    response_model=FilingAccepted,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/BankFiling"}}
            },
        }
    },
    responses={
        200: {"description": "Filed before under this reference", "model": FilingAccepted},
        **problem_responses(
            *AUTH_PROBLEMS,
            SignatureInvalid,
            InvalidRequest,
            PayloadTooLarge,
            UnsupportedMediaType,
            ValidationFailed,
            BatchNotFound,
            FilingIneligible,
            FilingNotAccepted,
            FilingPending,
            IntakeUnavailableProblem,
        ),
    },
)
async def file_loan(
    filing: BankFiling,
    request: Request,
    session: SessionDep,
    principal: BankDep,
    intake: IntakeDep,
) -> Any:
    """备案 of a loan the bank approved and lent within its open batch (见贷即保), for an
    enterprise that may never have used the portal; signed per Standard Webhooks like the
    bank's events. The fund assesses it against the policy in force today: 201 with the
    loan booked (disbursed; its 备案 with the fund, which may still refuse it:
    `filing.refused`), or a problem — 422 `filing-ineligible` with the findings, 409
    `filing-not-accepted` (batch not open, outside its window, no quota left, figures that
    do not check), 503 `filing-pending` (assessment not finished: file the same reference
    again). The same reference again answers with the loan as it stands (200)."""
    caller = await _signed_by(request, session, principal)
    accepted, created = await service.file(
        session=session, caller=caller, principal=principal, intake=intake, filing=filing
    )
    return JSONResponse(accepted.model_dump(mode="json"), status_code=201 if created else 200)


@filings.post(
    "/bulk",
    response_model=BulkFilingResult,
    responses=problem_responses(
        *AUTH_PROBLEMS,
        SignatureInvalid,
        InvalidRequest,
        PayloadTooLarge,
        UnsupportedMediaType,
        ValidationFailed,
    ),
)
async def file_loans(
    filings_in: BankFilings,
    request: Request,
    session: SessionDep,
    principal: BankDep,
    intake: IntakeDep,
) -> BulkFilingResult:
    """Up to 100 filings in one signed request, each accepted or refused on its own (the
    answer lists each with its loan or its problem, in order)."""
    caller = await _signed_by(request, session, principal)
    return await service.file_many(
        session=session,
        caller=caller,
        principal=principal,
        intake=intake,
        filings=filings_in.filings,
    )
