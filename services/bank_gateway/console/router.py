"""The finance bureau console (财政局工作台): inbox, batches, notifications. Chinese pages.

Thin: batches and deliveries go through the gateway's own service functions with the
signed-in person as principal (so four eyes, permissions and audit are the API's);
applications and claims come from loan_intake and the guarantee service on that person's
behalf (:mod:`calls`).
"""

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from services.bank_gateway import batches as batch_service
from services.bank_gateway import deliveries as delivery_service
from services.bank_gateway import repository as repo
from services.bank_gateway.console import charts, staff
from services.bank_gateway.console.calls import OnBehalf
from services.bank_gateway.console.pages import (
    LOAN_STATE_ZH,
    PREFIX,
    back,
    render_page,
    safe_next,
    staff_member,
    to_login,
)
from services.bank_gateway.deps import DispatcherDep, GuaranteeDep, IntakeDep
from services.bank_gateway.exceptions import BatchStateConflict
from services.bank_gateway.models import (
    AutoAllocationRequest,
    BatchCreate,
    BatchStatus,
    DeliveryStatus,
)
from shared.attempts import Attempts, TooManyAttempts
from shared.auth import APPROVE_PERMISSION, Principal, Role
from shared.clock import shanghai_today
from shared.db import SessionDep
from shared.errors import AppError, field_errors_from_pydantic
from shared.web import (
    client_address,
    end_session,
    form_data,
    problem_text,
    start_session,
)

console = APIRouter(prefix="/console", include_in_schema=False)

ACTIONS = {
    "submission": ("提交审批", batch_service.submit),
    "approval": ("审批通过", batch_service.approve),
    "return": ("退回修改", batch_service.send_back),
    "reopening": ("重新开放", batch_service.reopen),
}


# --- sign-in ---------------------------------------------------------------------------------


@console.get("/login")
async def login_page(request: Request, next: str | None = None) -> Response:
    return render_page(request, "login.html", None, values={}, error="", next=safe_next(next))


@console.post("/login")
async def login(request: Request, session: SessionDep) -> Response:
    form = await form_data(request)
    target = safe_next(form.get("next"))
    attempts: Attempts = request.app.state.sign_in_attempts
    who = {"account": form.get("username", ""), "address": client_address(request)}
    try:
        attempts.check(**who)
        account = await staff.sign_in(
            session=session, username=form.get("username", ""), password=form.get("password", "")
        )
    except (staff.StaffSignInFailed, TooManyAttempts) as error:
        if isinstance(error, staff.StaffSignInFailed):
            attempts.failed(**who)
        return render_page(
            request,
            "login.html",
            None,
            values={"username": form.get("username", "")},
            error=problem_text(error),
            next=target,
            status_code=error.status,
        )
    attempts.succeeded(account=who["account"])
    response = RedirectResponse(target, status_code=303)
    start_session(
        request,
        response,
        subject=account.username,
        role=Role.BUREAU,
        permissions=frozenset({APPROVE_PERMISSION}) if account.approver else frozenset(),
        name=account.display_name,
    )
    return response


@console.post("/logout")
async def logout(request: Request) -> Response:
    await form_data(request)
    response = RedirectResponse(f"{PREFIX}login", status_code=303)
    end_session(response)
    return response


# --- inbox ---------------------------------------------------------------------------------


@console.get("")
@console.get("/")
async def inbox(request: Request, session: SessionDep) -> Response:
    principal = staff_member(request)
    if principal is None:
        return to_login(request)
    calls = OnBehalf(request)
    problems: list[str] = []
    referred: dict[str, Any] = {"items": [], "total": 0}
    claims: dict[str, Any] = {"items": [], "total": 0}
    try:
        referred = await calls.get(
            calls.intake, "/v1/applications", status="referred", order="oldest", page_size=50
        )
    except AppError as error:
        problems.append(f"贷款申请服务：{problem_text(error)}")
    try:
        claims = await calls.get(calls.guarantee, "/v1/claims", limit=20)
    except AppError as error:
        problems.append(f"担保服务：{problem_text(error)}")
    pending = await batch_service.list_batches(
        session=session,
        principal=principal,
        bank_code=None,
        status=BatchStatus.PENDING_APPROVAL,
        offset=0,
        limit=50,
    )
    dead = await delivery_service.list_deliveries(
        session=session, status=DeliveryStatus.DEAD, bank_code=None, offset=0, limit=50
    )
    return render_page(
        request,
        "inbox.html",
        principal,
        referred=referred,
        claims=claims,
        pending=pending,
        dead=dead,
        problems=problems,
    )


# --- referred applications -----------------------------------------------------------------


@console.get("/applications/{application_id}")
async def application_page(
    request: Request, application_id: uuid.UUID, error: str = ""
) -> Response:
    principal = staff_member(request)
    if principal is None:
        return to_login(request)
    calls = OnBehalf(request)
    try:
        application = await calls.get(calls.intake, f"/v1/applications/{application_id}")
    except AppError as failure:
        return render_page(
            request, "message.html", principal, message=problem_text(failure), status_code=404
        )
    assessment = None
    if application.get("assessment_id"):
        try:
            assessment = await calls.get(
                calls.guarantee, f"/v1/assessments/{application['assessment_id']}"
            )
        except AppError:
            assessment = None
    return render_page(
        request,
        "application.html",
        principal,
        application=application,
        trace=(assessment or {}).get("trace") or {},
        error=error,
    )


@console.post("/applications/{application_id}/review")
async def review(request: Request, application_id: uuid.UUID) -> Response:
    principal = staff_member(request)
    if principal is None:
        return to_login(request)
    form = await form_data(request)
    calls = OnBehalf(request)
    try:
        await calls.post(
            calls.intake,
            f"/v1/applications/{application_id}/review",
            {"decision": form.get("decision", ""), "note": form.get("note", "").strip()},
        )
    except AppError as failure:
        return back(f"applications/{application_id}", error=problem_text(failure))
    return back("", done="复核意见已记录")


# --- batches -------------------------------------------------------------------------------


@console.get("/batches")
async def batches_page(
    request: Request,
    session: SessionDep,
    status: str = "",
    bank: str = "",
    page: int = Query(1, ge=1, le=10_000),
) -> Response:
    principal = staff_member(request)
    if principal is None:
        return to_login(request)
    chosen = BatchStatus(status) if status in BatchStatus.__members__.values() else None
    banks = await repo.list_banks(session=session)
    try:
        listed = await batch_service.list_batches(
            session=session,
            principal=principal,
            bank_code=bank or None,
            status=chosen,
            offset=(page - 1) * 20,
            limit=20,
        )
    except AppError as failure:
        return render_page(
            request, "message.html", principal, message=problem_text(failure), status_code=404
        )
    return render_page(
        request,
        "batches.html",
        principal,
        listed=listed,
        banks=banks,
        status=status,
        bank=bank,
        page=page,
    )


@console.get("/batches/new")
async def new_batch(request: Request, session: SessionDep) -> Response:
    principal = staff_member(request)
    if principal is None:
        return to_login(request)
    today = shanghai_today()
    values = {
        "valid_from": today.isoformat(),
        "valid_to": (today + timedelta(days=180)).isoformat(),
    }
    return await _batch_form(request, session, principal, values=values, errors={})


async def _batch_form(
    request: Request,
    session: SessionDep,
    principal: Principal,
    *,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    calls = OnBehalf(request)
    try:
        policies = await calls.get(calls.guarantee, "/v1/policies", status="approved", limit=50)
    except AppError as failure:
        policies = {"items": []}
        errors = {**errors, "_form": f"无法读取政策版本：{problem_text(failure)}"}
    return render_page(
        request,
        "batch_new.html",
        principal,
        values=values,
        errors=errors,
        banks=[b for b in await repo.list_banks(session=session) if b.active],
        policies=policies.get("items", []),
        status_code=status_code,
    )


@console.post("/batches/new")
async def create_batch(request: Request, session: SessionDep, guarantee: GuaranteeDep) -> Response:
    principal = staff_member(request)
    if principal is None:
        return to_login(request)
    form = await form_data(request)
    try:
        payload = BatchCreate.model_validate(
            {k: form.get(k, "") for k in BatchCreate.model_fields if form.get(k, "") != ""}
        )
        created = await batch_service.create_batch(
            session=session,
            principal=principal,
            guarantee=guarantee,
            payload=payload,
            today=shanghai_today(),
        )
    except ValidationError as error:
        found = {e.field: e.message for e in field_errors_from_pydantic(list(error.errors()))}
        return await _batch_form(
            request, session, principal, values=form, errors=found, status_code=400
        )
    except AppError as error:
        found = {e.field: e.message for e in getattr(error, "errors", None) or []}
        found = found or {"_form": problem_text(error)}
        return await _batch_form(
            request, session, principal, values=form, errors=found, status_code=error.status
        )
    return back(f"batches/{created.id}", done="批次草稿已创建")


@console.get("/batches/{batch_id}")
async def batch_page(
    request: Request,
    batch_id: uuid.UUID,
    session: SessionDep,
    page: int = Query(1, ge=1, le=100_000),
    sort: str = Query("allocated", pattern=r"^-?(allocated|amount|outstanding|state|enterprise)$"),
    done: str = "",
    error: str = "",
) -> Response:
    principal = staff_member(request)
    if principal is None:
        return to_login(request)
    try:
        batch = await batch_service.get_batch(
            session=session, principal=principal, batch_id=batch_id
        )
    except AppError as failure:
        return render_page(
            request, "message.html", principal, message=problem_text(failure), status_code=404
        )
    risk = await batch_service.risk(session=session, principal=principal, batch_id=batch_id)
    loans = await batch_service.list_loans(
        session=session,
        principal=principal,
        batch_id=batch_id,
        offset=(page - 1) * 20,
        limit=20,
        sort=sort,
    )
    used = await batch_service.utilisation(session=session, principal=principal, batch_id=batch_id)
    figures = {
        "utilisation": charts.lines(
            "额度使用（累计）", used, ceiling=("批次额度", Decimal(batch.quota))
        ),
        "states": charts.bars(
            "贷款状态分布",
            [(LOAN_STATE_ZH.get(s, s), n) for s, n in sorted(risk.loans_by_state.items())],
            unit=" 笔",
        ),
        "loss": charts.thresholds(
            "损失率与阈值",
            risk.loss_rate,
            [
                ("预警线", risk.warning_loss_rate),
                ("暂停线", risk.suspension_loss_rate),
                ("代偿上限", risk.compensation_ceiling),
            ],
            label="当前损失率",
        ),
    }
    return render_page(
        request,
        "batch.html",
        principal,
        batch=batch,
        risk=risk,
        loans=loans,
        page=page,
        sort=sort,
        figures=figures,
        done=done,
        error=error,
    )


@console.post("/batches/{batch_id}/{action}")
async def batch_action(
    request: Request,
    batch_id: uuid.UUID,
    action: str,
    session: SessionDep,
    intake: IntakeDep,
    dispatcher: DispatcherDep,
) -> Response:
    principal = staff_member(request)
    if principal is None:
        return to_login(request)
    form = await form_data(request)
    try:
        done = await _act(session, principal, intake, batch_id, action, form)
    except (AppError, ValidationError) as failure:
        message = (
            problem_text(failure)
            if isinstance(failure, AppError)
            else "；".join(e.message for e in field_errors_from_pydantic(list(failure.errors())))
        )
        return back(f"batches/{batch_id}", error=message)
    if dispatcher is not None:
        dispatcher.wake()
    return back(f"batches/{batch_id}", done=done)


async def _act(
    session: SessionDep,
    principal: Principal,
    intake: Any,
    batch_id: uuid.UUID,
    action: str,
    form: dict[str, str],
) -> str:
    if action in ACTIONS:
        label, run = ACTIONS[action]
        await run(session=session, principal=principal, batch_id=batch_id)
        return f"已{label}"
    if action == "opening":
        await batch_service.open_batch(
            session=session, principal=principal, batch_id=batch_id, today=shanghai_today()
        )
        return "批次已开放，已通知银行"
    if action == "closing":
        await batch_service.close(
            session=session,
            principal=principal,
            batch_id=batch_id,
            reason=form.get("reason", "").strip() or "财政局关闭",
        )
        return "批次已关闭"
    if action == "auto-allocation":
        request = AutoAllocationRequest.model_validate(
            {
                "include_no_preference": form.get("include_no_preference") == "on",
                "include_other_banks": form.get("include_other_banks") == "on",
                "max_applications": form.get("max_applications") or 200,
            }
        )
        result = await batch_service.auto_allocate(
            session=session, principal=principal, intake=intake, batch_id=batch_id, request=request
        )
        allocated = sum(o.allocated for o in result.outcomes)
        return f"已自动分配 {allocated} 笔申请（查看了 {result.scanned} 笔合格申请）"
    raise BatchStateConflict(f"未知操作 {action}")


# --- notifications -------------------------------------------------------------------------


@console.get("/deliveries")
async def deliveries_page(
    request: Request,
    session: SessionDep,
    status: str = "dead",
    page: int = Query(1, ge=1, le=10_000),
    done: str = "",
    error: str = "",
) -> Response:
    principal = staff_member(request)
    if principal is None:
        return to_login(request)
    chosen = DeliveryStatus(status) if status in DeliveryStatus.__members__.values() else None
    listed = await delivery_service.list_deliveries(
        session=session, status=chosen, bank_code=None, offset=(page - 1) * 50, limit=50
    )
    return render_page(
        request,
        "deliveries.html",
        principal,
        listed=listed,
        status=status,
        page=page,
        done=done,
        error=error,
    )


@console.post("/deliveries/{delivery_id}/redelivery")
async def redeliver(
    request: Request, delivery_id: uuid.UUID, session: SessionDep, dispatcher: DispatcherDep
) -> Response:
    principal = staff_member(request)
    if principal is None:
        return to_login(request)
    await form_data(request)
    try:
        await delivery_service.redeliver(
            session=session, principal=principal, delivery_id=delivery_id
        )
    except AppError as failure:
        return back("deliveries", error=problem_text(failure))
    if dispatcher is not None:
        dispatcher.wake()
    return back("deliveries", done="已重新投递")
