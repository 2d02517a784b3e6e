import base64
import binascii
import uuid
from datetime import timedelta
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, BackgroundTasks, Header, Query, Request, Response
from fastapi.responses import JSONResponse

from services.bank_gateway import batches as batch_service
from services.bank_gateway import callbacks as callback_service
from services.bank_gateway import deliveries as delivery_service
from services.bank_gateway import reconciliation as reconciliation_service
from services.bank_gateway import repository as repo_banks
from services.bank_gateway import service
from services.bank_gateway.deps import (
    AdminDep,
    BankDep,
    BankReaderDep,
    BureauDep,
    DispatcherDep,
    GuaranteeDep,
    IntakeDep,
    SessionDep,
)
from services.bank_gateway.exceptions import (
    AmountRefused,
    BankExists,
    BankNotFound,
    BatchInvalid,
    BatchNotFound,
    BatchStateConflict,
    DeliveryNotFound,
    DeliveryStateConflict,
    EventInvalid,
    EventNotApplicable,
    GuaranteeUnavailableProblem,
    IntakeUnavailableProblem,
    LoanNotFound,
    OAuthBadRequest,
    OAuthError,
    SignatureInvalid,
)
from services.bank_gateway.ledger import BankEvent
from services.bank_gateway.models import (
    AllocationRequest,
    AllocationResult,
    AutoAllocationRequest,
    AutoAllocationResult,
    BankCredentials,
    BatchClosing,
    BatchCreate,
    BatchLoanPage,
    BatchPage,
    BatchPublic,
    BatchRisk,
    BatchStatus,
    BulkResult,
    DeliveryPage,
    DeliveryPublic,
    DeliveryStatus,
    EventOutcome,
    PartnerBankCreate,
    PartnerBankPublic,
    PartnerBankUpdate,
    ReconciliationReport,
    SigningRotation,
    Statement,
    TokenResponse,
)
from shared.attempts import Attempts, TooManyAttempts
from shared.auth import Role, TokenIssuer
from shared.clock import shanghai_today
from shared.errors import (
    PROBLEM_MEDIA_TYPE,
    ApprovePermissionRequired,
    FieldError,
    Forbidden,
    FourEyesRequired,
    InvalidRequest,
    PayloadTooLarge,
    Unauthenticated,
    UnsupportedMediaType,
    ValidationFailed,
    problem_responses,
)
from shared.web import client_address

banks = APIRouter(prefix="/v1/banks", tags=["partner banks"])
batches = APIRouter(prefix="/v1/batches", tags=["batches"])
deliveries = APIRouter(prefix="/v1/deliveries", tags=["notifications"])
callbacks = APIRouter(prefix="/v1/bank/events", tags=["bank callbacks"])
reconciliations = APIRouter(prefix="/v1/bank/reconciliations", tags=["bank callbacks"])
oauth = APIRouter(tags=["oauth"])

_AUTH = (Unauthenticated, Forbidden)
_BODY = (InvalidRequest, PayloadTooLarge, UnsupportedMediaType, ValidationFailed)


@banks.get("", response_model=list[PartnerBankPublic], responses=problem_responses(*_AUTH))
async def list_banks(session: SessionDep, principal: BankReaderDep) -> list[PartnerBankPublic]:
    """Partner banks: bureau staff see all, a bank sees itself."""
    return await service.list_banks(session=session, principal=principal)


@banks.post(
    "",
    status_code=201,
    response_model=BankCredentials,
    responses=problem_responses(*_AUTH, *_BODY, BankExists),
)
async def register_bank(
    payload: PartnerBankCreate, session: SessionDep, principal: AdminDep, response: Response
) -> BankCredentials:
    """Register a bank. Its client secret and signing secret are in this answer only."""
    created = await service.register_bank(session=session, principal=principal, payload=payload)
    response.headers["Location"] = f"/v1/banks/{created.bank.code}"
    response.headers["Cache-Control"] = "no-store"
    return created


@banks.get(
    "/{code}", response_model=PartnerBankPublic, responses=problem_responses(*_AUTH, BankNotFound)
)
async def get_bank(code: str, session: SessionDep, principal: BankReaderDep) -> PartnerBankPublic:
    """One bank (a bank may read only itself; another is 404)."""
    return await service.get_bank(session=session, principal=principal, code=code)


@banks.patch(
    "/{code}",
    response_model=PartnerBankPublic,
    responses=problem_responses(*_AUTH, *_BODY, BankNotFound),
)
async def update_bank(
    code: str, payload: PartnerBankUpdate, session: SessionDep, principal: AdminDep
) -> PartnerBankPublic:
    """Change a bank's name, webhook URL or whether it may sign in."""
    return await service.update_bank(
        session=session, principal=principal, code=code, payload=payload
    )


@banks.post(
    "/{code}/client-secret",
    response_model=BankCredentials,
    responses=problem_responses(*_AUTH, BankNotFound),
)
async def rotate_client_secret(
    code: str, session: SessionDep, principal: AdminDep, response: Response
) -> BankCredentials:
    """A new client secret, shown once; the old one stops working now."""
    response.headers["Cache-Control"] = "no-store"
    return await service.rotate_client_secret(session=session, principal=principal, code=code)


@banks.post(
    "/{code}/signing-secrets",
    response_model=BankCredentials,
    responses=problem_responses(*_AUTH, *_BODY, BankNotFound),
)
async def rotate_signing_secret(
    code: str,
    payload: SigningRotation,
    session: SessionDep,
    principal: AdminDep,
    response: Response,
) -> BankCredentials:
    """A new webhook signing secret, shown once; the old stays valid for `overlap_hours`."""
    response.headers["Cache-Control"] = "no-store"
    return await service.rotate_signing_secret(
        session=session,
        principal=principal,
        code=code,
        overlap=timedelta(hours=payload.overlap_hours),
    )


def _basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    if not authorization or not authorization.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise OAuthError("Authorization: Basic 头无法解码") from None
    client_id, sep, client_secret = decoded.partition(":")
    if not sep:
        raise OAuthError("Authorization: Basic 头应为 client_id:client_secret")
    return client_id, client_secret


@oauth.post(
    "/oauth/token",
    response_model=TokenResponse,
    responses=problem_responses(OAuthError, OAuthBadRequest, PayloadTooLarge, TooManyAttempts),
    openapi_extra={
        "requestBody": {
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "required": ["grant_type"],
                        "properties": {
                            "grant_type": {"type": "string", "enum": ["client_credentials"]},
                            "client_id": {"type": "string"},
                            "client_secret": {"type": "string"},
                        },
                    }
                }
            }
        }
    },
)
async def issue_token(
    request: Request,
    session: SessionDep,
    response: Response,
    authorization: Annotated[str | None, Header()] = None,
) -> TokenResponse:
    """OAuth2 client-credentials grant (RFC 6749 §4.4): a short-lived token for one bank.

    Credentials as HTTP Basic or as `client_id` / `client_secret` form fields."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        raise OAuthBadRequest(
            "请求体须为 application/x-www-form-urlencoded", error="invalid_request"
        )
    try:
        form = parse_qs((await request.body()).decode(), strict_parsing=False)
    except UnicodeDecodeError:
        raise OAuthBadRequest("请求体不是 UTF-8", error="invalid_request") from None
    field = {name: values[0] for name, values in form.items() if values}
    if field.get("grant_type") != "client_credentials":
        raise OAuthBadRequest(
            "仅支持 grant_type=client_credentials", error="unsupported_grant_type"
        )
    credentials = _basic_credentials(authorization) or (
        field.get("client_id", ""),
        field.get("client_secret", ""),
    )
    if not all(credentials):
        raise OAuthError("缺少客户端凭据（client_id / client_secret）")
    attempts: Attempts = request.app.state.sign_in_attempts
    who = {"account": credentials[0], "address": client_address(request)}
    attempts.check(**who)
    try:
        bank = await service.authenticate_client(
            session=session, client_id=credentials[0], client_secret=credentials[1]
        )
    except OAuthError:
        attempts.failed(**who)
        raise
    attempts.succeeded(account=who["account"])
    issuer: TokenIssuer = request.app.state.token_issuer
    token = issuer.issue(subject=bank.client_id or bank.code, role=Role.BANK, tenant=bank.code)
    response.headers["Cache-Control"] = "no-store"
    return TokenResponse(
        access_token=token, expires_in=int(issuer.ttl.total_seconds()), scope=f"bank:{bank.code}"
    )


# --- batches ----------------------------------------------------------------------------------

Offset = Annotated[int, Query(ge=0, le=1_000_000)]
Limit = Annotated[int, Query(ge=1, le=200)]


@batches.post(
    "",
    status_code=201,
    response_model=BatchPublic,
    responses=problem_responses(*_AUTH, *_BODY, BatchInvalid, GuaranteeUnavailableProblem),
)
async def create_batch(
    payload: BatchCreate,
    session: SessionDep,
    principal: BureauDep,
    guarantee: GuaranteeDep,
    response: Response,
) -> BatchPublic:
    """Draft a batch: one bank, a quota, a validity window, the policy version whose terms apply."""
    batch = await batch_service.create_batch(
        session=session,
        principal=principal,
        guarantee=guarantee,
        payload=payload,
        today=shanghai_today(),
    )
    response.headers["Location"] = f"/v1/batches/{batch.id}"
    return batch


@batches.get("", response_model=BatchPage, responses=problem_responses(*_AUTH, BankNotFound))
async def list_batches(
    session: SessionDep,
    principal: BankReaderDep,
    bank: str | None = None,
    status: BatchStatus | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> BatchPage:
    """Batches, newest first; a bank sees only its own."""
    return await batch_service.list_batches(
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
    responses=problem_responses(*_AUTH, BatchNotFound, ValidationFailed),
)
async def get_batch(
    batch_id: uuid.UUID, session: SessionDep, principal: BankReaderDep
) -> BatchPublic:
    """One batch: quota, allocated, available, loans, state and who did what."""
    return await batch_service.get_batch(session=session, principal=principal, batch_id=batch_id)


@batches.post(
    "/{batch_id}/allocations",
    response_model=AllocationResult,
    responses=problem_responses(
        *_AUTH, *_BODY, BatchNotFound, BatchStateConflict, IntakeUnavailableProblem
    ),
)
async def allocate(
    batch_id: uuid.UUID,
    payload: AllocationRequest,
    session: SessionDep,
    principal: BureauDep,
    intake: IntakeDep,
) -> AllocationResult:
    """Allocate eligible applications; each is allocated or refused on its own, with why."""
    return await batch_service.allocate(
        session=session,
        principal=principal,
        intake=intake,
        batch_id=batch_id,
        application_ids=payload.application_ids,
    )


@batches.post(
    "/{batch_id}/allocations/auto",
    response_model=AutoAllocationResult,
    responses=problem_responses(
        *_AUTH, *_BODY, BatchNotFound, BatchStateConflict, IntakeUnavailableProblem
    ),
)
async def auto_allocate(
    batch_id: uuid.UUID,
    payload: AutoAllocationRequest,
    session: SessionDep,
    principal: BureauDep,
    intake: IntakeDep,
) -> AutoAllocationResult:
    """Fill the batch from the eligible applications, oldest first, preferring those whose
    SME chose this bank; up to the quota and `max_applications`."""
    return await batch_service.auto_allocate(
        session=session, principal=principal, intake=intake, batch_id=batch_id, request=payload
    )


@batches.get(
    "/{batch_id}/loans",
    response_model=BatchLoanPage,
    responses=problem_responses(*_AUTH, BatchNotFound, ValidationFailed),
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
    return await batch_service.list_loans(
        session=session,
        principal=principal,
        batch_id=batch_id,
        offset=offset,
        limit=limit,
        sort=sort,
    )


_STATE = (BatchNotFound, BatchStateConflict, ValidationFailed)


@batches.post(
    "/{batch_id}/submission",
    response_model=BatchPublic,
    responses=problem_responses(*_AUTH, *_STATE),
)
async def submit_batch(
    batch_id: uuid.UUID, session: SessionDep, principal: BureauDep
) -> BatchPublic:
    """Submit a draft for approval."""
    return await batch_service.submit(session=session, principal=principal, batch_id=batch_id)


@batches.post(
    "/{batch_id}/approval",
    response_model=BatchPublic,
    responses=problem_responses(*_AUTH, *_STATE, FourEyesRequired, ApprovePermissionRequired),
)
async def approve_batch(
    batch_id: uuid.UUID, session: SessionDep, principal: BureauDep
) -> BatchPublic:
    """Approve: a second bureau user with the approver permission (four eyes)."""
    return await batch_service.approve(session=session, principal=principal, batch_id=batch_id)


@batches.post(
    "/{batch_id}/return", response_model=BatchPublic, responses=problem_responses(*_AUTH, *_STATE)
)
async def send_back_batch(
    batch_id: uuid.UUID, session: SessionDep, principal: BureauDep
) -> BatchPublic:
    """Send a submitted batch back to draft."""
    return await batch_service.send_back(session=session, principal=principal, batch_id=batch_id)


@batches.post(
    "/{batch_id}/opening", response_model=BatchPublic, responses=problem_responses(*_AUTH, *_STATE)
)
async def open_batch(
    batch_id: uuid.UUID,
    session: SessionDep,
    principal: BureauDep,
    dispatcher: DispatcherDep,
    background: BackgroundTasks,
) -> BatchPublic:
    """Open an approved batch: `batch.opened` (with its loans) goes to the bank, and each
    application becomes `allocated` in loan_intake."""
    opened = await batch_service.open_batch(
        session=session, principal=principal, batch_id=batch_id, today=shanghai_today()
    )
    if dispatcher is not None:
        background.add_task(dispatcher.wake)
    return opened


@deliveries.get("", response_model=DeliveryPage, responses=problem_responses(*_AUTH, BankNotFound))
async def list_deliveries(
    session: SessionDep,
    principal: BureauDep,
    status: DeliveryStatus | None = None,
    bank: str | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> DeliveryPage:
    """Notifications to banks and updates to loan_intake: pending, delivered, dead, failed."""
    return await delivery_service.list_deliveries(
        session=session, status=status, bank_code=bank, offset=offset, limit=limit
    )


@deliveries.post(
    "/{delivery_id}/redelivery",
    response_model=DeliveryPublic,
    responses=problem_responses(*_AUTH, DeliveryNotFound, DeliveryStateConflict, ValidationFailed),
)
async def redeliver(
    delivery_id: uuid.UUID,
    session: SessionDep,
    principal: BureauDep,
    dispatcher: DispatcherDep,
    background: BackgroundTasks,
) -> DeliveryPublic:
    """Send a dead or failed delivery again, now, with a fresh 24 h retry window."""
    result = await delivery_service.redeliver(
        session=session, principal=principal, delivery_id=delivery_id
    )
    if dispatcher is not None:
        background.add_task(dispatcher.wake)
    return result


# --- bank callbacks ---------------------------------------------------------------------------

MAX_BULK = 1000
_SIGNED = {
    "parameters": [
        {"name": n, "in": "header", "required": True, "schema": {"type": "string"}}
        for n in ("webhook-id", "webhook-timestamp", "webhook-signature")
    ],
}


async def _signed_body(
    request: Request, session: SessionDep, principal: BankDep
) -> tuple[callback_service.CallerBank, bytes, str]:
    body = await request.body()
    bank = await callback_service.verify_signature(
        session=session,
        banks=request.app.state.caller_banks,
        code=principal.tenant or "",
        body=body,
        headers=request.headers,
    )
    return bank, body, request.headers["webhook-id"]


def _answer(outcome: EventOutcome) -> JSONResponse:
    if outcome.status == "refused" and outcome.problem:
        return JSONResponse(
            {**outcome.problem, "id": outcome.id, "loan_state": outcome.loan_state},
            status_code=int(outcome.problem["status"]),
            media_type=PROBLEM_MEDIA_TYPE,
        )
    return JSONResponse(
        outcome.model_dump(mode="json"), status_code=202 if outcome.status == "held" else 200
    )


@callbacks.post(
    "",
    response_model=EventOutcome,
    openapi_extra={
        **_SIGNED,
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": BankEvent.model_json_schema()}},
        },
    },
    responses={
        202: {"description": "Held until its predecessor arrives", "model": EventOutcome},
        **problem_responses(
            *_AUTH,
            SignatureInvalid,
            InvalidRequest,
            PayloadTooLarge,
            UnsupportedMediaType,
            EventInvalid,
            LoanNotFound,
            EventNotApplicable,
            AmountRefused,
        ),
    },
)
async def bank_event(request: Request, session: SessionDep, principal: BankDep) -> JSONResponse:
    """One event about one of the bank's loans, signed per Standard Webhooks.

    200 applied, 202 held (its predecessor has not arrived), or a problem: 404 not this
    bank's loan, 409 can never apply, 422 malformed or amounts that do not fit the ledger.
    The same `webhook-id` again gets the same answer and changes nothing."""
    bank, body, key = await _signed_body(request, session, principal)
    event = callback_service.parse_body(body)
    if not isinstance(event, dict):
        raise InvalidRequest("请求体应为 JSON 对象 (body must be a JSON object)")
    outcome = await callback_service.ingest(session=session, bank=bank, key=key, event=event)
    return _answer(outcome)


@callbacks.post(
    "/bulk",
    response_model=BulkResult,
    openapi_extra={
        **_SIGNED,
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["events"],
                        "properties": {
                            "events": {
                                "type": "array",
                                "maxItems": MAX_BULK,
                                "items": BankEvent.model_json_schema(),
                            }
                        },
                    }
                }
            },
        },
    },
    responses=problem_responses(
        *_AUTH,
        SignatureInvalid,
        InvalidRequest,
        PayloadTooLarge,
        UnsupportedMediaType,
        ValidationFailed,
    ),
)
async def bank_events_bulk(request: Request, session: SessionDep, principal: BankDep) -> BulkResult:
    """Up to 1,000 events in one signed request; each is applied, held or refused on its own,
    keyed by its own `id` (required here)."""
    bank, body, _ = await _signed_body(request, session, principal)
    document = callback_service.parse_body(body)
    events = document.get("events") if isinstance(document, dict) else None
    if not isinstance(events, list) or not 1 <= len(events) <= MAX_BULK:
        raise ValidationFailed(
            f"events 应为 1 至 {MAX_BULK} 个事件的数组",
            errors=[
                FieldError(
                    field="events",
                    message=f"应为 1 至 {MAX_BULK} 个事件",
                    message_en=f"1 to {MAX_BULK} events",
                    code="events_size",
                )
            ],
        )
    missing = [
        i
        for i, e in enumerate(events)
        if not isinstance(e, dict) or not isinstance(e.get("id"), str) or not e["id"]
    ]
    if missing:
        raise ValidationFailed(
            "批量事件须各有 id",
            errors=[
                FieldError(
                    field=f"events.{i}.id",
                    message="批量中每个事件都需要 id",
                    message_en="each event in a bulk needs an id",
                    code="missing",
                )
                for i in missing[:20]
            ],
        )
    results = await callback_service.ingest_bulk(session=session, bank=bank, events=events)
    return BulkResult(
        results=results,
        applied=sum(r.status == "applied" for r in results),
        held=sum(r.status == "held" for r in results),
        refused=sum(r.status == "refused" for r in results),
    )


@batches.get(
    "/{batch_id}/risk",
    response_model=BatchRisk,
    responses=problem_responses(*_AUTH, BatchNotFound, ValidationFailed),
)
async def batch_risk(
    batch_id: uuid.UUID, session: SessionDep, principal: BankReaderDep
) -> BatchRisk:
    """Quota used, disbursed, outstanding, overdue, defaulted; loss rate against the policy's
    warning and suspension lines and the compensation ceiling."""
    return await batch_service.risk(session=session, principal=principal, batch_id=batch_id)


@batches.post(
    "/{batch_id}/reopening",
    response_model=BatchPublic,
    responses=problem_responses(*_AUTH, *_STATE, ApprovePermissionRequired),
)
async def reopen_batch(
    batch_id: uuid.UUID,
    session: SessionDep,
    principal: BureauDep,
    dispatcher: DispatcherDep,
    background: BackgroundTasks,
) -> BatchPublic:
    """Reopen a suspended batch (bureau approver): approvals are taken again."""
    reopened = await batch_service.reopen(session=session, principal=principal, batch_id=batch_id)
    if dispatcher is not None:
        background.add_task(dispatcher.wake)
    return reopened


@batches.post(
    "/{batch_id}/closing",
    response_model=BatchPublic,
    responses=problem_responses(*_AUTH, *_STATE, ApprovePermissionRequired),
)
async def close_batch(
    batch_id: uuid.UUID,
    payload: BatchClosing,
    session: SessionDep,
    principal: BureauDep,
    dispatcher: DispatcherDep,
    background: BackgroundTasks,
) -> BatchPublic:
    """Close an open or suspended batch (bureau approver): loans not yet approved are
    declined, the bank is told (`batch.closed`); approved loans live on."""
    closed = await batch_service.close(
        session=session, principal=principal, batch_id=batch_id, reason=payload.reason
    )
    if dispatcher is not None:
        background.add_task(dispatcher.wake)
    return closed


@reconciliations.post(
    "",
    response_model=ReconciliationReport,
    responses=problem_responses(*_AUTH, *_BODY),
)
async def reconcile(
    statement: Statement, request: Request, session: SessionDep, principal: BankDep
) -> ReconciliationReport:
    """Post the bank's statement (each loan's state and outstanding principal on a date);
    the answer lists every mismatch, loans unknown or left out, and every event the
    gateway is still waiting for (approved but not disbursed after 14 days; no repayment
    or overdue report for 31 days; events held for a missing predecessor)."""
    bank = await repo_banks.get_bank_by_code(session=session, code=principal.tenant or "")
    if bank is None:
        raise Unauthenticated("该银行不存在")
    settings = request.app.state.settings
    return await reconciliation_service.reconcile(
        session=session,
        bank=bank,
        statement=statement,
        disbursal_days=settings.reconcile_disbursal_days,
        repayment_days=settings.reconcile_repayment_days,
    )
