"""The SME portal (企业端): register, sign in, apply, follow the application. Chinese pages.

Thin, like the API router: the same service functions do the work, so the portal enforces
exactly the API's rules; the pages' scripts only check earlier, as the user types.
"""

import uuid
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import quote

from asgi_correlation_id import correlation_id
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import ValidationError

from services.loan_intake import accounts, service
from services.loan_intake.exceptions import AccountExists, ApplicationNotFound, SignInFailed
from services.loan_intake.models import (
    TRANSITIONS,
    ApplicationCreate,
    ApplicationStatus,
    EnterpriseAccount,
)
from shared.attempts import Attempts, TooManyAttempts
from shared.auth import Principal, Role
from shared.db import SessionDep
from shared.errors import AppError, ValidationFailed, field_errors_from_pydantic
from shared.sme import SECTORS, UnknownSector, classify, resolve_sector
from shared.uscc import InvalidUSCC, region_of, validate_uscc
from shared.web import (
    client_address,
    end_session,
    form_data,
    problem_text,
    render,
    signed_in,
    start_session,
    templates,
)

PREFIX = "/portal/"
HERE = Path(__file__).parent
pages = templates(HERE / "templates")
portal = APIRouter(prefix="/portal", include_in_schema=False)

FLAGS = {
    "specialized_new": "专精特新中小企业",
    "little_giant": "专精特新“小巨人”企业",
    "high_tech": "高新技术企业",
    "tech_sme": "科技型中小企业",
    "key_industry": "青浦“3+5”重点产业",
    "bad_credit_2y": "近两年有严重失信记录（企业、法定代表人或实际控制人）",
    "pending_lawsuit": "有影响偿债能力的未决诉讼",
    "phase_out_list": "列入“三高一低”淘汰名单",
}
# The sectors an SME picks from (GB/T 4754 sections and the divisions 300号 needs).
SECTOR_CHOICES = [
    ("C", "制造业（C）"),
    ("B", "采矿业（B）"),
    ("D", "电力、热力、燃气及水生产和供应业（D）"),
    ("E", "建筑业（E）"),
    ("F51", "批发业（F51）"),
    ("F52", "零售业（F52）"),
    ("G54", "道路运输业（G54）"),
    ("G59", "装卸搬运和仓储业（G59）"),
    ("G60", "邮政业（G60）"),
    ("H61", "住宿业（H61）"),
    ("H62", "餐饮业（H62）"),
    ("I63", "电信、广播电视和卫星传输服务（I63）"),
    ("I64", "互联网和相关服务（I64）"),
    ("I65", "软件和信息技术服务业（I65）"),
    ("K701", "房地产开发经营（K701）"),
    ("K702", "物业管理（K702）"),
    ("L", "租赁和商务服务业（L）"),
    ("A", "农、林、牧、渔业（A）"),
    ("M", "科学研究和技术服务业（M）"),
    ("other", "其他行业"),
]


def _page(request: Request, template: str, principal: Principal | None, **context: Any) -> Response:
    status_code = context.pop("status_code", 200)
    return render(
        request,
        pages,
        template,
        {"prefix": PREFIX, **context},
        status_code=status_code,
        principal=principal,
    )


def _to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"{PREFIX}login?next={quote(target)}", status_code=303)


def _safe_next(value: str | None) -> str:
    # Only back into the portal: never an open redirect.
    if value and value.startswith(PREFIX) and not value.startswith("//"):
        return value
    return f"{PREFIX}applications"


def _errors(error: ValidationError | AppError) -> dict[str, str]:
    """Field name (as in the form: ``enterprise.name``) → the first message for it."""
    if isinstance(error, ValidationError):
        items = field_errors_from_pydantic(list(error.errors()))
    else:
        items = list(getattr(error, "errors", None) or [])
    found: dict[str, str] = {}
    for item in items:
        found.setdefault(item.field, item.message)
    if not found and isinstance(error, AppError):
        found["_form"] = problem_text(error)
    return found


# --- sign-in and registration ----------------------------------------------------------------


@portal.get("")
@portal.get("/")
async def home(request: Request) -> Response:
    if signed_in(request, role=Role.SME) is None:
        return RedirectResponse(f"{PREFIX}login", status_code=303)
    return RedirectResponse(f"{PREFIX}applications", status_code=303)


@portal.get("/login")
async def login_page(request: Request, next: str | None = None) -> Response:
    return _page(request, "login.html", None, values={}, errors={}, next=_safe_next(next))


@portal.post("/login")
async def login(request: Request, session: SessionDep) -> Response:
    form = await form_data(request)
    target = _safe_next(form.get("next"))
    attempts: Attempts = request.app.state.sign_in_attempts
    who = {"account": form.get("uscc", ""), "address": client_address(request)}
    try:
        attempts.check(**who)
        account = await accounts.sign_in(
            session=session, uscc=form.get("uscc", ""), password=form.get("password", "")
        )
    except (SignInFailed, TooManyAttempts) as error:
        if isinstance(error, SignInFailed):
            attempts.failed(**who)
        return _page(
            request,
            "login.html",
            None,
            values={"uscc": form.get("uscc", "")},
            errors={"_form": problem_text(error)},
            next=target,
            status_code=error.status,
        )
    attempts.succeeded(account=who["account"])
    response = RedirectResponse(target, status_code=303)
    return _signed_in_as(request, response, account)


@portal.get("/register")
async def register_page(request: Request) -> Response:
    return _page(request, "register.html", None, values={}, errors={})


@portal.post("/register")
async def register(request: Request, session: SessionDep) -> Response:
    form = await form_data(request)
    values = {k: v for k, v in form.items() if not k.startswith("password")}
    try:
        registration = accounts.Registration.model_validate(
            {k: form.get(k, "") for k in accounts.Registration.model_fields}
        )
        account = await accounts.register(session=session, registration=registration)
    except (ValidationError, AccountExists) as error:
        errors = _errors(error)
        if isinstance(error, AccountExists):
            errors = {"uscc": problem_text(error)}
        return _page(request, "register.html", None, values=values, errors=errors, status_code=400)
    response = RedirectResponse(f"{PREFIX}applications/new", status_code=303)
    return _signed_in_as(request, response, account)


def _signed_in_as(request: Request, response: Response, account: EnterpriseAccount) -> Response:
    start_session(
        request,
        response,
        subject=account.uscc,
        role=Role.SME,
        tenant=account.uscc,
        name=account.enterprise_name,
    )
    return response


@portal.post("/logout")
async def logout(request: Request) -> Response:
    await form_data(request)
    response = RedirectResponse(f"{PREFIX}login", status_code=303)
    end_session(response)
    return response


# --- applications ---------------------------------------------------------------------------------


@portal.get("/applications")
async def my_applications(
    request: Request, session: SessionDep, page: int = Query(1, ge=1, le=10_000)
) -> Response:
    principal = signed_in(request, role=Role.SME)
    if principal is None:
        return _to_login(request)
    listed = await service.list_applications(
        session=session, principal=principal, status=None, page=page, page_size=20
    )
    return _page(request, "applications.html", principal, listed=listed)


@portal.get("/applications/new")
async def new_application(request: Request) -> Response:
    principal = signed_in(request, role=Role.SME)
    if principal is None:
        return _to_login(request)
    return _form(request, principal, values={}, errors={})


def _form(
    request: Request,
    principal: Principal,
    *,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    return _page(
        request,
        "apply.html",
        principal,
        values=values,
        errors=errors,
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


def application_body(form: dict[str, str], uscc: str) -> dict[str, Any]:
    """The API's request body from the form's fields (``enterprise.name`` …)."""
    enterprise: dict[str, Any] = {"uscc": uscc, "flags": {}}
    loan: dict[str, Any] = {}
    for name, value in form.items():
        part, _, field = name.partition(".")
        value = value.strip()
        if part == "enterprise" and field.startswith("flags."):
            enterprise["flags"][field.removeprefix("flags.")] = value == "on"
        elif part == "enterprise" and field != "uscc" and value != "":
            enterprise[field] = value
        elif part == "loan" and value != "":
            loan[field] = value
    for key in ("total_liabilities", "land_area_mu"):
        enterprise.setdefault(key, None)
    return {"enterprise": enterprise, "loan": loan}


@portal.post("/applications/new")
async def submit(
    request: Request,
    session: SessionDep,
) -> Response:
    principal = signed_in(request, role=Role.SME)
    if principal is None:
        return _to_login(request)
    form = await form_data(request)
    assert principal.tenant is not None
    try:
        payload = ApplicationCreate.model_validate(application_body(form, principal.tenant))
        submission = await service.submit_application(
            session=session,
            principal=principal,
            payload=payload,
            idempotency_key=form.get("idempotency_key") or None,
            request_id=correlation_id.get(),
        )
    except (ValidationError, ValidationFailed) as error:
        return _form(request, principal, values=form, errors=_errors(error), status_code=400)
    except AppError as error:
        return _form(
            request,
            principal,
            values=form,
            errors={"_form": problem_text(error)},
            status_code=error.status,
        )
    return RedirectResponse(
        f"{PREFIX}applications/{submission.application_id}?submitted=1", status_code=303
    )


@portal.get("/applications/{application_id}")
async def application_page(
    request: Request, application_id: uuid.UUID, session: SessionDep, submitted: int = 0
) -> Response:
    principal = signed_in(request, role=Role.SME)
    if principal is None:
        return _to_login(request)
    try:
        application = await service.get_application(
            session=session, principal=principal, application_id=application_id
        )
    except ApplicationNotFound as error:
        return _page(
            request, "not_found.html", principal, message=problem_text(error), status_code=404
        )
    status = ApplicationStatus(application.status)
    return _page(
        request,
        "application.html",
        principal,
        application=application,
        failed_rules=[r for r in application.reasons or [] if not r.passed],
        can_withdraw=ApplicationStatus.WITHDRAWN in TRANSITIONS[status],
        submitted=bool(submitted),
        flags=FLAGS,
    )


@portal.post("/applications/{application_id}/withdrawal")
async def withdraw(request: Request, application_id: uuid.UUID, session: SessionDep) -> Response:
    principal = signed_in(request, role=Role.SME)
    if principal is None:
        return _to_login(request)
    form = await form_data(request)
    reason = form.get("reason", "").strip() or "企业主动撤回"
    try:
        await service.withdraw_application(
            session=session, principal=principal, application_id=application_id, reason=reason
        )
    except AppError as error:
        return _page(
            request, "not_found.html", principal, message=problem_text(error), status_code=409
        )
    return RedirectResponse(f"{PREFIX}applications/{application_id}", status_code=303)


# --- checks as the user types (the server checks again on submit) -------------------------


@portal.get("/check/uscc")
async def check_uscc(value: str = Query("", max_length=40)) -> JSONResponse:
    try:
        code = validate_uscc(value)
    except InvalidUSCC as error:
        return JSONResponse({"valid": False, "message": error.message_zh})
    qingpu = region_of(code) == "310118"
    return JSONResponse(
        {
            "valid": True,
            "message": "代码有效" + ("（青浦区登记）" if qingpu else "（非青浦区登记机关）"),
            "qingpu": qingpu,
        }
    )


def size_label(sector: str, employees: str, revenue: str, assets: str) -> str:
    """ "工业 · 小型企业" for what has been typed, or "" while it cannot tell."""
    if not (sector and employees and revenue and assets):
        return ""
    try:
        resolved = resolve_sector(sector)
        size = classify(
            resolved.sme_sector,
            employees=int(employees),
            revenue=Decimal(revenue.replace(",", "")),
            assets=Decimal(assets.replace(",", "")),
        )
    except (UnknownSector, ValueError, InvalidOperation):
        return ""
    return f"{SECTORS[resolved.sme_sector].name_zh} · {size.label_zh}企业"


@portal.get("/check/size")
async def check_size(
    sector: str = Query("", max_length=40),
    employees: str = Query("", max_length=12),
    revenue: str = Query("", max_length=20),
    assets: str = Query("", max_length=20),
) -> JSONResponse:
    """The SME size class (工信部联企业〔2011〕300号) for what has been typed so far."""
    return JSONResponse({"label": size_label(sector, employees, revenue, assets)})
