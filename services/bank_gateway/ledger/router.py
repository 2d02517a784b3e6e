"""What banks send: signed events about their loans (one, or up to 1,000 in bulk), and
statements to reconcile against the ledger."""

import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from services.bank_gateway.banks import service as banks
from services.bank_gateway.banks.exceptions import SignatureInvalid
from services.bank_gateway.banks.signatures import CallerBank, verify_signature
from services.bank_gateway.clients import GuaranteeUnavailable, IntakeClient, IntakeUnavailable
from services.bank_gateway.deps import (
    BankDep,
    BureauDep,
    GuaranteeCallerDep,
    GuaranteeDep,
    IntakeDep,
    SessionDep,
)
from services.bank_gateway.ledger import decisions, loans, reconciliation, service, three_way
from services.bank_gateway.ledger.events import openapi_schemas
from services.bank_gateway.ledger.exceptions import EVENT_REFUSALS, LoanNotFound
from services.bank_gateway.ledger.schemas import (
    BulkResult,
    EventOutcome,
    ReconciliationReport,
    Statement,
    ThreeWayReport,
)
from shared.api import AUTH_PROBLEMS, BODY_PROBLEMS, FILE_BODY
from shared.auth import Principal
from shared.contracts.claims import ClaimDocumentPublic, ClaimNotice
from shared.contracts.documents import ApplicationDocumentPublic
from shared.errors import (
    PROBLEM_MEDIA_TYPE,
    FieldError,
    InvalidRequest,
    PayloadTooLarge,
    ServiceUnavailable,
    Unauthenticated,
    UnsupportedMediaType,
    ValidationFailed,
    problem_responses,
)

callbacks = APIRouter(prefix="/v1/bank/events", tags=["bank callbacks"])
# One schema per event type, a union on ``type``: its models go into the document's components.
EVENT_SCHEMA, EVENT_COMPONENTS = openapi_schemas()
reconciliations = APIRouter(prefix="/v1/bank/reconciliations", tags=["bank callbacks"])
claim_notices = APIRouter(prefix="/v1/claim-notices", tags=["guarantee fund"])
claim_documents = APIRouter(prefix="/v1/bank/loans", tags=["bank callbacks"])
three_way_checks = APIRouter(prefix="/v1/reconciliation", tags=["reconciliation"])


MAX_BULK = 1000
_SIGNED = {
    "parameters": [
        {"name": n, "in": "header", "required": True, "schema": {"type": "string"}}
        for n in ("webhook-id", "webhook-timestamp", "webhook-signature")
    ],
}


def _json(body: bytes) -> Any:
    """The raw body as JSON (it was verified as bytes first); None if it is not JSON."""
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # deeply nested: not an event
        return None


async def _signed_body(
    request: Request, session: SessionDep, principal: BankDep
) -> tuple[CallerBank, bytes, str]:
    body = await request.body()
    bank = await verify_signature(
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
            "content": {"application/json": {"schema": EVENT_SCHEMA}},
        },
    },
    responses={
        202: {"description": "Held until its predecessor arrives", "model": EventOutcome},
        **problem_responses(
            *AUTH_PROBLEMS,
            SignatureInvalid,
            InvalidRequest,
            PayloadTooLarge,
            UnsupportedMediaType,
            *EVENT_REFUSALS,
        ),
    },
)
async def bank_event(request: Request, session: SessionDep, principal: BankDep) -> JSONResponse:
    """One event about one of the bank's loans, signed per Standard Webhooks.

    200 applied, 202 held (its predecessor has not arrived), or a problem: 404 not this
    bank's loan, 409 can never apply, 422 malformed or amounts that do not fit the ledger.
    The same `webhook-id` again gets the same answer and changes nothing."""
    bank, body, key = await _signed_body(request, session, principal)
    event = _json(body)
    if not isinstance(event, dict):
        raise InvalidRequest("请求体应为 JSON 对象 (body must be a JSON object)")
    outcome = await service.ingest(session=session, bank=bank, key=key, event=event)
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
                                "items": EVENT_SCHEMA,
                            }
                        },
                    }
                }
            },
        },
    },
    responses=problem_responses(
        *AUTH_PROBLEMS,
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
    document = _json(body)
    if not isinstance(document, dict):
        raise InvalidRequest("请求体应为 JSON 对象 (body must be a JSON object)")
    events = document.get("events")
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
    results = await service.ingest_bulk(session=session, bank=bank, events=events)
    return BulkResult(
        results=results,
        applied=sum(r.status == "applied" for r in results),
        held=sum(r.status == "held" for r in results),
        refused=sum(r.status == "refused" for r in results),
    )


@reconciliations.post(
    "",
    response_model=ReconciliationReport,
    responses=problem_responses(*AUTH_PROBLEMS, *BODY_PROBLEMS, ServiceUnavailable),
)
async def reconcile(
    statement: Statement,
    request: Request,
    session: SessionDep,
    principal: BankDep,
    guarantee: GuaranteeDep,
) -> ReconciliationReport:
    """Post the bank's statement (each loan's state and outstanding principal on a date);
    the answer lists every mismatch, loans unknown or left out, and every event the
    gateway is still waiting for (approved but not disbursed after 14 days; no repayment
    or overdue report for 31 days; events held for a missing predecessor)."""
    bank = await banks.by_code(session=session, code=principal.tenant or "")
    if bank is None:
        raise Unauthenticated("该银行不存在")
    settings = request.app.state.settings
    try:
        return await reconciliation.reconcile(
            session=session,
            bank=bank,
            statement=statement,
            disbursal_days=settings.reconcile_disbursal_days,
            repayment_days=settings.reconcile_repayment_days,
            guarantee=guarantee,
        )
    except GuaranteeUnavailable as error:
        raise ServiceUnavailable(f"核对担保费实收须查询担保基金，暂不可用：{error}") from error


@claim_notices.post(
    "", status_code=204, responses=problem_responses(*AUTH_PROBLEMS, *BODY_PROBLEMS)
)
async def claim_notice(
    notice: ClaimNotice, session: SessionDep, principal: GuaranteeCallerDep
) -> Response:
    """The guarantee service: its fund decided or paid a claim. Recorded on the loan, told to
    the bank (``claim.decided``, ``claim.paid``) and the SME; the same notice again changes
    nothing."""
    await decisions.apply_claim_notice(session=session, notice=notice)
    return Response(status_code=204)


@claim_documents.post(
    "/{loan_id}/claim-documents",
    status_code=201,
    response_model=ClaimDocumentPublic,
    responses={
        200: {"description": "This file was uploaded before", "model": ClaimDocumentPublic},
        **problem_responses(*AUTH_PROBLEMS, *BODY_PROBLEMS, LoanNotFound, ServiceUnavailable),
    },
    openapi_extra=FILE_BODY,
)
async def upload_claim_document(
    loan_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: BankDep,
    guarantee: GuaranteeDep,
    kind: Annotated[str, Query(min_length=1, max_length=40)],
    filename: Annotated[str, Query(min_length=1, max_length=255)],
) -> Response:
    """A paper for the claim on one of the bank's loans (事故报告书, 催收记录, court papers…):
    the body is the file — PDF, JPEG or PNG, at most 10 MB — with its ``Content-Type``;
    ``kind`` is one of the policy's codes (the claim's page lists them). The guarantee fund
    keeps it, checked by its content; the same file again is a no-op."""
    bank = await banks.by_code(session=session, code=principal.tenant or "")
    if bank is None:
        raise LoanNotFound(f"没有编号为 {loan_id} 的贷款")
    await loans.of_bank(session=session, loan_id=loan_id, bank_id=bank.id)
    try:
        answer = await guarantee.upload_claim_document(
            loan_id,
            kind=kind,
            filename=filename,
            content_type=request.headers.get("content-type", ""),
            content=await request.body(),
        )
    except GuaranteeUnavailable as error:
        raise ServiceUnavailable(f"担保基金服务暂不可用，请稍后重新上传（{error}）") from error
    if answer.status_code >= 500:
        raise ServiceUnavailable(
            f"担保基金服务暂不可用，请稍后重新上传（HTTP {answer.status_code}）"
        )
    return Response(
        content=answer.content,
        status_code=answer.status_code,
        media_type=answer.headers.get("content-type", "application/json"),
    )


@claim_documents.get(
    "/{loan_id}/application-documents",
    response_model=list[ApplicationDocumentPublic],
    responses=problem_responses(*AUTH_PROBLEMS, LoanNotFound, ServiceUnavailable),
)
async def application_documents(
    loan_id: uuid.UUID, session: SessionDep, principal: BankDep, intake: IntakeDep
) -> Response:
    """The papers the firm sent with its application (营业执照, 财务报表, 纳税证明) for one of
    the bank's loans — what its credit officer reviews; each downloaded by its ``id``."""
    return await _application_paper(session, principal, intake, loan_id, "")


@claim_documents.get(
    "/{loan_id}/application-documents/{document_id}",
    response_class=Response,
    responses={
        200: {"content": {t: {} for t in ("application/pdf", "image/jpeg", "image/png")}},
        **problem_responses(*AUTH_PROBLEMS, LoanNotFound, ServiceUnavailable),
    },
)
async def application_document(
    loan_id: uuid.UUID,
    document_id: uuid.UUID,
    session: SessionDep,
    principal: BankDep,
    intake: IntakeDep,
) -> Response:
    """One paper itself, as an attachment."""
    return await _application_paper(session, principal, intake, loan_id, f"/{document_id}")


async def _application_paper(
    session: AsyncSession, principal: Principal, intake: IntakeClient, loan_id: uuid.UUID, rest: str
) -> Response:
    """Intake's answer about the loan's application papers, once the loan is the bank's."""
    bank = await banks.by_code(session=session, code=principal.tenant or "")
    if bank is None:
        raise LoanNotFound(f"没有编号为 {loan_id} 的贷款")
    loan = await loans.of_bank(session=session, loan_id=loan_id, bank_id=bank.id)
    try:
        answer = await intake.application_paper(loan.application_id, rest)
    except IntakeUnavailable as error:
        raise ServiceUnavailable(f"贷款申请服务暂不可用，请稍后再试（{error}）") from error
    kept = (
        "content-type",
        "content-disposition",
        "x-content-type-options",
        "content-security-policy",
    )
    return Response(
        content=answer.content,
        status_code=answer.status_code,
        headers={k: v for k, v in answer.headers.items() if k in kept},
    )


@three_way_checks.get(
    "/three-way",
    response_model=ThreeWayReport,
    responses=problem_responses(*AUTH_PROBLEMS, ValidationFailed, ServiceUnavailable),
)
async def three_way_reconciliation(
    session: SessionDep,
    principal: BureauDep,
    guarantee: GuaranteeDep,
    intake: IntakeDep,
    batch_id: uuid.UUID | None = None,
) -> ThreeWayReport:
    """三方对账: every lent loan (of a batch, or all) — the ledger against the guarantee
    fund's guarantee, release, claim, payment and recoveries, and against the SME's
    application status — each difference listed with its cause (a notice still on its way,
    or one to look into), and the totals of both sides. Changes nothing."""
    try:
        return await three_way.reconcile(
            session=session, guarantee=guarantee, intake=intake, batch_id=batch_id
        )
    except (GuaranteeUnavailable, IntakeUnavailable) as error:
        raise ServiceUnavailable(f"对账所需的服务暂不可用：{error}") from error
