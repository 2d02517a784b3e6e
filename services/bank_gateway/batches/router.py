"""Batches: drafted, allocated, approved (four eyes), opened, watched, closed by the bureau;
read by the bank they are for (its own only)."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from services.bank_gateway.banks.exceptions import BankNotFound
from services.bank_gateway.batches import allocation, service
from services.bank_gateway.batches.exceptions import (
    BatchInvalid,
    BatchNotFound,
    BatchStateConflict,
    GuaranteeUnavailableProblem,
    IntakeUnavailableProblem,
)
from services.bank_gateway.batches.schemas import (
    AllocationRequest,
    AllocationResult,
    AutoAllocationRequest,
    AutoAllocationResult,
    BatchClosing,
    BatchCreate,
    BatchPage,
    BatchPublic,
)
from services.bank_gateway.deps import (
    BankReaderDep,
    BureauDep,
    GuaranteeDep,
    IntakeDep,
    SessionDep,
)
from services.bank_gateway.ledger import loans as ledger
from services.bank_gateway.ledger.schemas import BatchLoanPage, BatchRisk
from services.bank_gateway.models import BatchStatus
from shared.api import AUTH_PROBLEMS, BODY_PROBLEMS, Limit, Offset
from shared.clock import shanghai_today
from shared.errors import (
    ApprovePermissionRequired,
    FourEyesRequired,
    ValidationFailed,
    problem_responses,
)

batches = APIRouter(prefix="/v1/batches", tags=["batches"])


@batches.post(
    "",
    status_code=201,
    response_model=BatchPublic,
    responses=problem_responses(
        *AUTH_PROBLEMS, *BODY_PROBLEMS, BatchInvalid, GuaranteeUnavailableProblem
    ),
)
async def create_batch(
    payload: BatchCreate,
    session: SessionDep,
    principal: BureauDep,
    guarantee: GuaranteeDep,
    response: Response,
) -> BatchPublic:
    """Draft a batch: one bank, a quota, a validity window, the policy version whose terms apply."""
    batch = await service.create_batch(
        session=session,
        principal=principal,
        guarantee=guarantee,
        payload=payload,
        today=shanghai_today(),
    )
    response.headers["Location"] = f"/v1/batches/{batch.id}"
    return batch


@batches.get(
    "", response_model=BatchPage, responses=problem_responses(*AUTH_PROBLEMS, BankNotFound)
)
async def list_batches(
    session: SessionDep,
    principal: BankReaderDep,
    bank: str | None = None,
    status: BatchStatus | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> BatchPage:
    """Batches, newest first; a bank sees only its own."""
    return await service.list_batches(
        session=session,
        principal=principal,
        bank_code=bank,
        status=status,
        offset=offset,
        limit=limit,
    )


@batches.get(
    "/{batch_id}",
    response_model=BatchPublic,
    responses=problem_responses(*AUTH_PROBLEMS, BatchNotFound, ValidationFailed),
)
async def get_batch(
    batch_id: uuid.UUID, session: SessionDep, principal: BankReaderDep
) -> BatchPublic:
    """One batch: quota, allocated, available, loans, state and who did what."""
    return await service.get_batch(session=session, principal=principal, batch_id=batch_id)


@batches.post(
    "/{batch_id}/allocations",
    response_model=AllocationResult,
    responses=problem_responses(
        *AUTH_PROBLEMS,
        *BODY_PROBLEMS,
        BatchNotFound,
        BatchStateConflict,
        IntakeUnavailableProblem,
        GuaranteeUnavailableProblem,
    ),
)
async def allocate(
    batch_id: uuid.UUID,
    payload: AllocationRequest,
    session: SessionDep,
    principal: BureauDep,
    intake: IntakeDep,
    guarantee: GuaranteeDep,
) -> AllocationResult:
    """Allocate eligible applications; each is allocated or refused on its own, with why."""
    return await allocation.allocate(
        session=session,
        principal=principal,
        intake=intake,
        guarantee=guarantee,
        batch_id=batch_id,
        application_ids=payload.application_ids,
    )


@batches.post(
    "/{batch_id}/allocations/auto",
    response_model=AutoAllocationResult,
    responses=problem_responses(
        *AUTH_PROBLEMS, *BODY_PROBLEMS, BatchNotFound, BatchStateConflict, IntakeUnavailableProblem
    ),
)
async def auto_allocate(
    batch_id: uuid.UUID,
    payload: AutoAllocationRequest,
    session: SessionDep,
    principal: BureauDep,
    intake: IntakeDep,
    guarantee: GuaranteeDep,
) -> AutoAllocationResult:
    """Fill the batch from the eligible applications, oldest first, preferring those whose
    SME chose this bank; up to the quota and `max_applications`."""
    return await allocation.auto_allocate(
        session=session,
        principal=principal,
        intake=intake,
        guarantee=guarantee,
        batch_id=batch_id,
        request=payload,
    )


@batches.get(
    "/{batch_id}/loans",
    response_model=BatchLoanPage,
    responses=problem_responses(*AUTH_PROBLEMS, BatchNotFound, ValidationFailed),
)
async def list_loans(
    batch_id: uuid.UUID,
    session: SessionDep,
    principal: BankReaderDep,
    offset: Offset = 0,
    limit: Limit = 50,
    sort: Annotated[
        str,
        Query(
            pattern=r"^-?(allocated|amount|outstanding|state|enterprise)$",
            description="allocated (default), amount, outstanding, state, enterprise; -x: desc",
        ),
    ] = "allocated",
) -> BatchLoanPage:
    """The batch's loans with their ledger figures, paginated and sortable."""
    batch = await service.load(session, principal, batch_id)
    return await ledger.list_loans(
        session=session, batch=batch, offset=offset, limit=limit, sort=sort
    )


_STATE = (BatchNotFound, BatchStateConflict, ValidationFailed)


@batches.post(
    "/{batch_id}/submission",
    response_model=BatchPublic,
    responses=problem_responses(*AUTH_PROBLEMS, *_STATE),
)
async def submit_batch(
    batch_id: uuid.UUID, session: SessionDep, principal: BureauDep
) -> BatchPublic:
    """Submit a draft for approval."""
    return await service.submit(session=session, principal=principal, batch_id=batch_id)


@batches.post(
    "/{batch_id}/approval",
    response_model=BatchPublic,
    responses=problem_responses(
        *AUTH_PROBLEMS, *_STATE, FourEyesRequired, ApprovePermissionRequired
    ),
)
async def approve_batch(
    batch_id: uuid.UUID, session: SessionDep, principal: BureauDep
) -> BatchPublic:
    """Approve: a second bureau user with the approver permission (four eyes)."""
    return await service.approve(session=session, principal=principal, batch_id=batch_id)


@batches.post(
    "/{batch_id}/return",
    response_model=BatchPublic,
    responses=problem_responses(*AUTH_PROBLEMS, *_STATE),
)
async def send_back_batch(
    batch_id: uuid.UUID, session: SessionDep, principal: BureauDep
) -> BatchPublic:
    """Send a submitted batch back to draft."""
    return await service.send_back(session=session, principal=principal, batch_id=batch_id)


@batches.post(
    "/{batch_id}/opening",
    response_model=BatchPublic,
    responses=problem_responses(*AUTH_PROBLEMS, *_STATE),
)
async def open_batch(
    batch_id: uuid.UUID,
    session: SessionDep,
    principal: BureauDep,
) -> BatchPublic:
    """Open an approved batch: `batch.opened` (with its loans) goes to the bank, and each
    application becomes `allocated` in loan_intake."""
    return await service.open_batch(
        session=session, principal=principal, batch_id=batch_id, today=shanghai_today()
    )


@batches.get(
    "/{batch_id}/risk",
    response_model=BatchRisk,
    responses=problem_responses(*AUTH_PROBLEMS, BatchNotFound, ValidationFailed),
)
async def batch_risk(
    batch_id: uuid.UUID, session: SessionDep, principal: BankReaderDep
) -> BatchRisk:
    """Quota used, disbursed, outstanding, overdue, defaulted; loss rate against the policy's
    warning and suspension lines and the compensation ceiling."""
    return await service.risk_of(session=session, principal=principal, batch_id=batch_id)


@batches.post(
    "/{batch_id}/reopening",
    response_model=BatchPublic,
    responses=problem_responses(*AUTH_PROBLEMS, *_STATE, ApprovePermissionRequired),
)
async def reopen_batch(
    batch_id: uuid.UUID,
    session: SessionDep,
    principal: BureauDep,
) -> BatchPublic:
    """Reopen a suspended batch (bureau approver): approvals are taken again."""
    return await service.reopen(session=session, principal=principal, batch_id=batch_id)


@batches.post(
    "/{batch_id}/closing",
    response_model=BatchPublic,
    responses=problem_responses(*AUTH_PROBLEMS, *_STATE, ApprovePermissionRequired),
)
async def close_batch(
    batch_id: uuid.UUID,
    payload: BatchClosing,
    session: SessionDep,
    principal: BureauDep,
) -> BatchPublic:
    """Close an open or suspended batch (bureau approver): loans not yet approved are
    declined, the bank is told (`batch.closed`); approved loans live on."""
    return await service.close(
        session=session, principal=principal, batch_id=batch_id, reason=payload.reason
    )
