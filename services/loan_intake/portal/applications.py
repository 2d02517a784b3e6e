"""The SME's applications: the list, the form, submission, one application with its
decision, terms and timeline, and withdrawal — through the same service as the API."""

import uuid
from decimal import Decimal

from asgi_correlation_id import correlation_id
from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from services.loan_intake.applications import service, submission
from services.loan_intake.applications.exceptions import ApplicationNotFound
from services.loan_intake.applications.rules import TRANSITIONS
from services.loan_intake.applications.schemas import (
    SUBMISSION_STATUS,
    ApplicationCreate,
    ApplicationPublic,
)
from services.loan_intake.clients import GuaranteeUnavailable
from services.loan_intake.documents import service as documents
from services.loan_intake.documents.schemas import KINDS_ZH
from services.loan_intake.models import ApplicationStatus
from services.loan_intake.portal import fact_reviews
from services.loan_intake.portal.forms import (
    FLAGS,
    SECTOR_CHOICES,
    AmountsInvalid,
    application_body,
    size_label,
    values_from,
)
from services.loan_intake.portal.letters import WITH_LETTER
from services.loan_intake.portal.pages import PREFIX, form_errors, refusal, render_page, to_login
from services.loan_intake.portal.precheck import Foreseen, precheck
from shared.auth import VERIFIED_PERMISSION, Principal, Role
from shared.db import SessionDep
from shared.errors import AppError, ValidationFailed
from shared.web import form_data, problem_text, signed_in

application_pages = APIRouter(prefix="/portal", include_in_schema=False)

# Lent: the fund has (or had) a guarantee with its billed fee schedule, read from the
# guarantee service — before, the page shows the assessment's estimate.
LENT = frozenset(
    {
        ApplicationStatus.DISBURSED,
        ApplicationStatus.REPAYING,
        ApplicationStatus.SETTLED,
        ApplicationStatus.OVERDUE,
        ApplicationStatus.DEFAULTED,
        ApplicationStatus.CLAIMED,
        ApplicationStatus.COMPENSATED,
        ApplicationStatus.RECOVERING,
        ApplicationStatus.CLOSED,
        ApplicationStatus.WRITTEN_OFF,
    }
)


# Nothing more to send once the application has ended.
CLOSED_TO_PAPERS = frozenset(
    {
        ApplicationStatus.INELIGIBLE,
        ApplicationStatus.WITHDRAWN,
        ApplicationStatus.DECLINED,
        ApplicationStatus.CLOSED,
        ApplicationStatus.WRITTEN_OFF,
    }
)


# What became of a visit to the identity platform (the text is ours, never the URL's).
VERIFY_OUTCOMES = {
    "done": ("ok", "企业身份已通过一网通办核验：您现在可以看到本企业的全部申请。"),
    "mismatch": ("error", "一网通办登录的企业与本账号的统一社会信用代码不一致，未核验。"),
    "cancelled": ("error", "一网通办登录已取消或未完成，账号仍未核验，可以再试一次。"),
    "expired": ("error", "核验已超时或不是从本页面发起的，请重新点击“通过一网通办核验”。"),
    "failed": ("error", "暂时无法完成核验（一网通办未应答或应答无效），请稍后再试。"),
    "unavailable": ("error", "本平台尚未接入一网通办核验，请携营业执照到区财政局办理。"),
}


@application_pages.get("/applications")
async def my_applications(
    request: Request,
    session: SessionDep,
    page: int = Query(1, ge=1, le=10_000),
    verify: str | None = None,
) -> Response:
    principal = await signed_in(request, role=Role.SME)
    if principal is None:
        return to_login(request)
    listed = await service.list_applications(
        session=session, principal=principal, page=page, page_size=20
    )
    return render_page(
        request,
        "applications.html",
        principal,
        listed=listed,
        verified=VERIFIED_PERMISSION in principal.permissions or principal.account is None,
        verify_outcome=VERIFY_OUTCOMES.get(verify or ""),
    )


@application_pages.get("/applications/new")
async def new_application(request: Request, session: SessionDep) -> Response:
    principal = await signed_in(request, role=Role.SME)
    if principal is None:
        return to_login(request)
    latest = await service.list_applications(
        session=session, principal=principal, page=1, page_size=1
    )
    values: dict[str, str] = {}
    if latest.items:
        last = await service.get_application(
            session=session, principal=principal, application_id=latest.items[0].id
        )
        values = values_from(last.enterprise)
    return _form(request, principal, values=values, errors={}, prefilled=bool(values))


def _form(
    request: Request,
    principal: Principal,
    *,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
    foreseen: Foreseen | None = None,
    prefilled: bool = False,
) -> Response:
    return render_page(
        request,
        "apply.html",
        principal,
        values=values,
        errors=errors,
        foreseen=foreseen,
        prefilled=prefilled,
        flags=FLAGS,
        sectors=SECTOR_CHOICES,
        idempotency_key=values.get("idempotency_key") or uuid.uuid4().hex,
        size_label=size_label(
            values.get("enterprise.sector", ""),
            values.get("enterprise.employees", ""),
            values.get("enterprise.annual_revenue", ""),
            values.get("enterprise.total_assets", ""),
        ),
        status_code=status_code,
    )


@application_pages.post("/applications/new")
async def submit(
    request: Request,
    session: SessionDep,
) -> Response:
    principal = await signed_in(request, role=Role.SME)
    if principal is None:
        return to_login(request)
    form = await form_data(request)
    assert principal.tenant is not None
    try:
        payload = ApplicationCreate.model_validate(application_body(form, principal.tenant))
    except AmountsInvalid as error:
        return _form(request, principal, values=form, errors=error.errors, status_code=400)
    except (ValidationError, ValidationFailed) as error:
        return _form(request, principal, values=form, errors=form_errors(error), status_code=400)
    key = form.get("idempotency_key") or None
    # A form sent twice (a double click) is answered with what the first one filed: its own
    # amount must not count against it in the 预审.
    replay = key is not None and await submission.already_submitted(
        session=session, principal=principal, key=key
    )
    if not form.get("submit_anyway") and not replay:
        foreseen = await precheck(request, payload)
        if foreseen is not None:
            return _form(request, principal, values=form, errors=foreseen.errors, foreseen=foreseen)
    try:
        submitted = await submission.submit_application(
            session=session,
            principal=principal,
            payload=payload,
            idempotency=submission.IdempotencyKey(key, SUBMISSION_STATUS) if key else None,
            request_id=correlation_id.get(),
        )
    except ValidationFailed as error:
        return _form(request, principal, values=form, errors=form_errors(error), status_code=400)
    except AppError as error:
        return _form(
            request,
            principal,
            values=form,
            errors={"_form": problem_text(error)},
            status_code=error.status,
        )
    return RedirectResponse(
        f"{PREFIX}applications/{submitted.application_id}?submitted=1", status_code=303
    )


@application_pages.get("/applications/{application_id}")
async def application_page(
    request: Request, application_id: uuid.UUID, session: SessionDep, submitted: int = 0
) -> Response:
    principal = await signed_in(request, role=Role.SME)
    if principal is None:
        return to_login(request)
    try:
        application = await service.get_application(
            session=session, principal=principal, application_id=application_id
        )
    except ApplicationNotFound as error:
        return refusal(request, principal, problem_text(error), 404)
    status = ApplicationStatus(application.status)
    billed, billed_unavailable = None, False
    if status in LENT:
        try:
            billed = await request.app.state.guarantee.guarantee_of(application_id)
        except GuaranteeUnavailable:
            billed_unavailable = True
    return render_page(
        request,
        "application.html",
        principal,
        application=application,
        billed=billed,
        billed_unavailable=billed_unavailable,
        # The policy's rules apart from the firm's facts as the issuers' lists show them
        # (reasons ``fact.*``: verified and the list named, or declared and on no list).
        failed_rules=[
            r for r in application.reasons or [] if not r.passed and not _is_fact(r.code)
        ],
        facts=[r for r in application.reasons or [] if _is_fact(r.code)],
        subsidies_received=_subsidies_received(application),
        can_withdraw=ApplicationStatus.WITHDRAWN in TRANSITIONS[status],
        has_letter=status in WITH_LETTER and application.terms is not None,
        documents=await documents.list_for(
            session=session, principal=principal, application_id=application_id
        ),
        document_kinds=KINDS_ZH,
        can_upload=status not in CLOSED_TO_PAPERS,
        submitted=bool(submitted),
        flags=FLAGS,
        **await fact_reviews.review_context(request, application),
    )


def _subsidies_received(application: ApplicationPublic) -> tuple[Decimal, int]:
    """What the bureau paid out on this loan so far (each payout a ``subsidy.paid`` entry of
    its history, by voucher), and how many payouts."""
    paid = [
        Decimal(str(h.details["amount"]))
        for h in application.history
        if h.details and h.details.get("voucher_number") and h.details.get("amount")
    ]
    return sum(paid, start=Decimal(0)), len(paid)


@application_pages.post("/applications/{application_id}/supplement")
async def supplement(request: Request, application_id: uuid.UUID, session: SessionDep) -> Response:
    """The firm answers 退回补充材料; a note too short or too long is said on the page."""
    principal = await signed_in(request, role=Role.SME)
    if principal is None:
        return to_login(request)
    form = await form_data(request)
    note = form.get("note", "").strip()
    if not 2 <= len(note) <= 2000:
        return RedirectResponse(
            f"{PREFIX}applications/{application_id}?supplement_error=1", status_code=303
        )
    try:
        await service.supplement(
            session=session, principal=principal, application_id=application_id, note=note
        )
    except AppError as error:
        return refusal(request, principal, problem_text(error), 409)
    return RedirectResponse(
        f"{PREFIX}applications/{application_id}?supplemented=1", status_code=303
    )


@application_pages.post("/applications/{application_id}/withdrawal")
async def withdraw(request: Request, application_id: uuid.UUID, session: SessionDep) -> Response:
    principal = await signed_in(request, role=Role.SME)
    if principal is None:
        return to_login(request)
    form = await form_data(request)
    reason = form.get("reason", "").strip() or "企业主动撤回"
    try:
        await service.withdraw_application(
            session=session, principal=principal, application_id=application_id, reason=reason
        )
    except AppError as error:
        return refusal(request, principal, problem_text(error), 409)
    return RedirectResponse(f"{PREFIX}applications/{application_id}", status_code=303)


def _is_fact(code: str) -> bool:
    return code.startswith("fact.")
