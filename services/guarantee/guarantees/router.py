"""Guarantees in force: 备案 by the bank gateway, read with their terms and fee schedule;
the fee subsidies falling due per month and bank."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from services.guarantee.deps import (
    ClaimReaderDep,
    FundDep,
    GatewayCallerDep,
    SessionDep,
    StaffDep,
    StaffOrGatewayDep,
    StaffOrIntakeDep,
)
from services.guarantee.guarantees import collections, reports, service
from services.guarantee.guarantees.exceptions import (
    ExposureCapExceeded,
    FeeCollectionConflict,
    FeeCollectionInvalid,
    FilingRefused,
    GuaranteeConflict,
    GuaranteeNotFound,
    GuaranteeReleaseConflict,
    NotAssessedEligible,
    OutstandingInvalid,
    ReleaseInvalid,
)
from services.guarantee.guarantees.schemas import (
    EnterpriseExposure,
    ExposureGroup,
    ExposureReport,
    FeeCollectionCreate,
    FeeCollections,
    GuaranteePublic,
)
from shared.api import AUTH_PROBLEMS, BODY_PROBLEMS, Limit, Offset
from shared.contracts.guarantee import (
    FeeLines,
    FeeSubsidyReport,
    FirmsExposure,
    FirmsExposureRequest,
    GuaranteeFiling,
    GuaranteeOutstanding,
    GuaranteeOverdue,
    GuaranteeRelease,
)
from shared.errors import (
    FieldError,
    ValidationFailed,
    problem_responses,
)

guarantees = APIRouter(prefix="/v1/guarantees", tags=["guarantees"])


@guarantees.post(
    "",
    status_code=201,
    response_model=GuaranteePublic,
    responses={
        200: {"description": "Filed before: the guarantee issued then", "model": GuaranteePublic},
        **problem_responses(
            *AUTH_PROBLEMS,
            *BODY_PROBLEMS,
            GuaranteeConflict,
            NotAssessedEligible,
            ExposureCapExceeded,
            FilingRefused,
        ),
    },
)
async def file_loan(
    filing: GuaranteeFiling, session: SessionDep, principal: GatewayCallerDep, response: Response
) -> GuaranteePublic:
    """备案: the bank gateway files a disbursed loan; the guarantee is issued with the terms
    frozen from the assessment, and its fee schedule and subsidy."""
    issued, created = await service.issue(session=session, filing=filing)
    if not created:
        response.status_code = 200
    return issued


Month = Annotated[
    str, Query(pattern=r"^20\d{2}-(0[1-9]|1[0-2])$", description="YYYY-MM, 2000-01 to 2099-12")
]


@guarantees.get(
    "/subsidies",
    response_model=FeeSubsidyReport,
    responses=problem_responses(*AUTH_PROBLEMS, ValidationFailed),
)
async def fee_subsidies(
    session: SessionDep, principal: StaffDep, month_from: Month, month_to: Month
) -> FeeSubsidyReport:
    """Guarantee fees and the district's fee subsidy falling due per month and bank."""
    _months_in_order(month_from, month_to)
    return await reports.fee_subsidies(session=session, month_from=month_from, month_to=month_to)


def _months_in_order(month_from: str, month_to: str) -> None:
    if month_to < month_from:
        raise ValidationFailed(
            "结束月份不能早于开始月份",
            errors=[
                FieldError(
                    field="month_to",
                    message="结束月份不能早于开始月份",
                    message_en="month_to precedes month_from",
                    code="months_reversed",
                )
            ],
        )


@guarantees.get(
    "/fee-lines",
    response_model=FeeLines,
    responses=problem_responses(*AUTH_PROBLEMS, ValidationFailed),
)
async def fee_lines(
    session: SessionDep, principal: StaffOrGatewayDep, month_from: Month, month_to: Month
) -> FeeLines:
    """Per loan and month: the fee due, its subsidy (the firm's cap applied) and the fees
    received (担保费实收) — the fee lines of the bureau's period statements."""
    _months_in_order(month_from, month_to)
    return await reports.fee_lines(session=session, month_from=month_from, month_to=month_to)


@guarantees.get(
    "/exposure",
    response_model=ExposureReport,
    responses=problem_responses(*AUTH_PROBLEMS, ValidationFailed),
)
async def exposure(
    session: SessionDep,
    principal: StaffDep,
    group: ExposureGroup = "enterprise",
    offset: Offset = 0,
    limit: Limit = 50,
) -> ExposureReport:
    """在保余额 (guaranteed outstanding) per firm (USCC, across batches and banks), batch,
    bank or policy version: guarantees in force, the largest first."""
    return await reports.exposure(session=session, group=group, offset=offset, limit=limit)


@guarantees.post(
    "/exposure/firms",
    response_model=FirmsExposure,
    responses=problem_responses(*AUTH_PROBLEMS, *BODY_PROBLEMS),
)
async def firms_exposure(
    request: FirmsExposureRequest, session: SessionDep, principal: StaffOrGatewayDep
) -> FirmsExposure:
    """在保余额 of up to 1,000 firms at once (the bank gateway checks the per-firm cap when it
    allocates applications into a batch)."""
    return await reports.firms_exposure(session=session, usccs=request.usccs)


@guarantees.get(
    "/exposure/{uscc}",
    response_model=EnterpriseExposure,
    responses=problem_responses(*AUTH_PROBLEMS, ValidationFailed),
)
async def enterprise_exposure(
    uscc: Annotated[str, Path(pattern=r"^[0-9A-HJ-NPQRTUWXY]{18}$")],
    session: SessionDep,
    principal: StaffDep,
) -> EnterpriseExposure:
    """One firm's 在保余额 across batches and banks, and each guarantee behind it."""
    return await reports.enterprise_exposure(session=session, uscc=uscc)


@guarantees.get(
    "/of-application/{application_id}",
    response_model=GuaranteePublic,
    responses=problem_responses(*AUTH_PROBLEMS, GuaranteeNotFound, ValidationFailed),
)
async def guarantee_of_application(
    application_id: uuid.UUID, session: SessionDep, principal: StaffOrIntakeDep
) -> GuaranteePublic:
    """The guarantee of an application's loan: what the SME's page shows as billed."""
    return await service.of_application(session=session, application_id=application_id)


@guarantees.get(
    "/{loan_id}",
    response_model=GuaranteePublic,
    responses=problem_responses(*AUTH_PROBLEMS, GuaranteeNotFound, ValidationFailed),
)
async def get_guarantee(
    loan_id: uuid.UUID, session: SessionDep, principal: ClaimReaderDep
) -> GuaranteePublic:
    """The guarantee of a loan (by the gateway's loan id): frozen terms and fee schedule —
    for the bureau, and for the fund's staff who record the fees received against it."""
    return await service.get(session=session, loan_id=loan_id)


@guarantees.post(
    "/{loan_id}/outstanding",
    response_model=GuaranteePublic,
    responses=problem_responses(
        *AUTH_PROBLEMS, *BODY_PROBLEMS, GuaranteeNotFound, OutstandingInvalid
    ),
)
async def report_outstanding(
    loan_id: uuid.UUID,
    report: GuaranteeOutstanding,
    session: SessionDep,
    principal: GatewayCallerDep,
) -> GuaranteePublic:
    """在保余额 after a repayment: the bank gateway reports the loan's outstanding principal.
    An older report than the one held changes nothing."""
    return await service.report_outstanding(session=session, loan_id=loan_id, report=report)


@guarantees.post(
    "/{loan_id}/overdue",
    response_model=GuaranteePublic,
    responses=problem_responses(
        *AUTH_PROBLEMS, *BODY_PROBLEMS, GuaranteeNotFound, OutstandingInvalid
    ),
)
async def report_overdue(
    loan_id: uuid.UUID,
    report: GuaranteeOverdue,
    session: SessionDep,
    principal: GatewayCallerDep,
) -> GuaranteePublic:
    """The loan fell overdue (the bank gateway reports it): a fee period falling due from
    then until the repayment that cures it gets no fee subsidy."""
    return await service.report_overdue(session=session, loan_id=loan_id, report=report)


@guarantees.post(
    "/{loan_id}/release",
    response_model=GuaranteePublic,
    responses=problem_responses(
        *AUTH_PROBLEMS,
        *BODY_PROBLEMS,
        GuaranteeNotFound,
        GuaranteeReleaseConflict,
        ReleaseInvalid,
    ),
)
async def release_guarantee(
    loan_id: uuid.UUID,
    release: GuaranteeRelease,
    session: SessionDep,
    principal: GatewayCallerDep,
) -> GuaranteePublic:
    """解保: the bank gateway reports the loan settled, paid out or written off; the
    guarantee ends and its fee schedule is cut at that day. The same release again: 200."""
    return await service.release(session=session, loan_id=loan_id, release=release)


@guarantees.get(
    "/{loan_id}/fee-collections",
    response_model=FeeCollections,
    responses=problem_responses(*AUTH_PROBLEMS, GuaranteeNotFound),
)
async def fee_collections(
    loan_id: uuid.UUID, session: SessionDep, principal: ClaimReaderDep
) -> FeeCollections:
    """担保费实收: the receipts the fund recorded against the guarantee's fee schedule."""
    return await collections.of_loan(session=session, loan_id=loan_id)


@guarantees.post(
    "/{loan_id}/fee-collections",
    response_model=FeeCollections,
    status_code=201,
    responses={
        200: {"description": "The same receipt was recorded before", "model": FeeCollections},
        **problem_responses(
            *AUTH_PROBLEMS,
            *BODY_PROBLEMS,
            GuaranteeNotFound,
            FeeCollectionInvalid,
            FeeCollectionConflict,
        ),
    },
)
async def record_fee_collection(
    loan_id: uuid.UUID,
    entry: FeeCollectionCreate,
    session: SessionDep,
    principal: FundDep,
    response: Response,
) -> FeeCollections:
    """The fund records fees received from the firm for one period of the schedule: at most
    what the firm owes for it (the fee less the subsidy) not yet received, on a day between
    the disbursal and today. The same receipt number again changes nothing."""
    result, created = await collections.record(
        session=session, loan_id=loan_id, entry=entry, actor=principal.actor
    )
    if not created:
        response.status_code = 200
    return result
