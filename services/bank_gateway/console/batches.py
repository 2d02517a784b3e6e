"""Batch pages: the list (filters), drafting, a batch with its loans and charts, and the
actions on it (submission, four-eyes approval, return, opening, auto-allocation, closing,
reopening), each through the batches domain's own service as the signed-in person."""

import uuid
from datetime import timedelta
from decimal import Decimal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError

from services.bank_gateway.banks import service as banks
from services.bank_gateway.batches import allocation
from services.bank_gateway.batches import service as batches
from services.bank_gateway.batches.exceptions import BatchStateConflict
from services.bank_gateway.batches.schemas import AutoAllocationRequest, BatchCreate, BatchPage
from services.bank_gateway.clients import GuaranteeClient, IntakeClient
from services.bank_gateway.console import charts
from services.bank_gateway.console import repository as repo
from services.bank_gateway.console.calls import OnBehalf
from services.bank_gateway.console.pages import (
    LOAN_STATE_ZH,
    back,
    names,
    render_page,
    staff_member,
    to_login,
)
from services.bank_gateway.deps import GuaranteeDep, IntakeDep
from services.bank_gateway.ledger import loans as ledger
from services.bank_gateway.ledger.risk import figures as risk_figures
from services.bank_gateway.ledger.risk import utilisation
from services.bank_gateway.models import BatchStatus
from shared.auth import Principal
from shared.clock import shanghai_today
from shared.db import SessionDep
from shared.errors import AppError, field_errors_from_pydantic
from shared.web import form_data, problem_text

batch_pages = APIRouter(prefix="/console", include_in_schema=False)

ACTIONS = {
    "submission": ("提交审批", batches.submit),
    "approval": ("审批通过", batches.approve),
    "return": ("退回修改", batches.send_back),
    "reopening": ("重新开放", batches.reopen),
}


@batch_pages.get("/batches")
async def batches_page(
    request: Request,
    session: SessionDep,
    status: str = "",
    bank: str = "",
    page: int = Query(1, ge=1, le=10_000),
) -> Response:
    principal = await staff_member(request)
    if principal is None:
        return to_login(request)
    chosen = BatchStatus(status) if status in BatchStatus.__members__.values() else None
    banks = await repo.list_banks(session=session)
    if bank and bank not in {b.code for b in banks}:
        message = f"没有代码为 {bank} 的合作银行"
        return render_page(request, "message.html", principal, message=message, status_code=404)
    rows, total = await repo.list_batches(
        session=session,
        bank_code=bank or None,
        status=chosen.value if chosen else None,
        offset=(page - 1) * 20,
        limit=20,
    )
    listed = BatchPage(
        items=[batches.public(row.batch, row.bank, row.loans) for row in rows],
        total=total,
        offset=(page - 1) * 20,
        limit=20,
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


@batch_pages.get("/batches/new")
async def new_batch(request: Request, session: SessionDep) -> Response:
    principal = await staff_member(request)
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


@batch_pages.post("/batches/new")
async def create_batch(request: Request, session: SessionDep, guarantee: GuaranteeDep) -> Response:
    principal = await staff_member(request)
    if principal is None:
        return to_login(request)
    form = await form_data(request)
    try:
        payload = BatchCreate.model_validate(
            {k: form.get(k, "") for k in BatchCreate.model_fields if form.get(k, "") != ""}
        )
        created = await batches.create_batch(
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


@batch_pages.get("/batches/{batch_id}")
async def batch_page(
    request: Request,
    batch_id: uuid.UUID,
    session: SessionDep,
    page: int = Query(1, ge=1, le=100_000),
    sort: str = Query("allocated", pattern=r"^-?(allocated|amount|outstanding|state|enterprise)$"),
    done: str = "",
    error: str = "",
) -> Response:
    principal = await staff_member(request)
    if principal is None:
        return to_login(request)
    try:
        batch = await batches.get_batch(session=session, principal=principal, batch_id=batch_id)
    except AppError as failure:
        return render_page(
            request, "message.html", principal, message=problem_text(failure), status_code=404
        )
    loaded = await batches.load(session, principal, batch_id)
    risk = await risk_figures(session, loaded)
    loans = await ledger.list_loans(
        session=session, batch=loaded, offset=(page - 1) * 20, limit=20, sort=sort
    )
    used = await utilisation(session=session, batch=loaded)
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
        people=await names(session, [batch.created_by, batch.submitted_by, batch.approved_by]),
        batch=batch,
        risk=risk,
        loans=loans,
        page=page,
        sort=sort,
        figures=figures,
        done=done,
        error=error,
    )


@batch_pages.post("/batches/{batch_id}/{action}")
async def batch_action(
    request: Request,
    batch_id: uuid.UUID,
    action: str,
    session: SessionDep,
    intake: IntakeDep,
    guarantee: GuaranteeDep,
) -> Response:
    principal = await staff_member(request)
    if principal is None:
        return to_login(request)
    form = await form_data(request)
    try:
        done = await _act(session, principal, (intake, guarantee), batch_id, action, form)
    except (AppError, ValidationError) as failure:
        message = (
            problem_text(failure)
            if isinstance(failure, AppError)
            else "；".join(e.message for e in field_errors_from_pydantic(list(failure.errors())))
        )
        return back(f"batches/{batch_id}", error=message)
    return back(f"batches/{batch_id}", done=done)


async def _told_the_bank(session: SessionDep, bank_code: str) -> str:
    """What opening did for the bank, truthfully: a notice is only on its way when the bank
    has a callback address (the notifications page says when it arrived)."""
    bank = await banks.by_code(session=session, code=bank_code)
    if bank is None or not bank.webhook_url:
        return (
            "批次已开放。该银行尚未登记回调地址，开放通知未能发出："
            "请联系银行登记回调地址后，在“通知投递”中重新投递"
        )
    return "批次已开放，开放通知已发往银行（是否送达见“通知投递”）"


async def _act(
    session: SessionDep,
    principal: Principal,
    clients: tuple[IntakeClient, GuaranteeClient],
    batch_id: uuid.UUID,
    action: str,
    form: dict[str, str],
) -> str:
    intake, guarantee = clients
    if action in ACTIONS:
        label, run = ACTIONS[action]
        await run(session=session, principal=principal, batch_id=batch_id)
        return f"已{label}"
    if action == "opening":
        opened = await batches.open_batch(
            session=session, principal=principal, batch_id=batch_id, today=shanghai_today()
        )
        return await _told_the_bank(session, opened.bank_code)
    if action == "closing":
        await batches.close(
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
        result = await allocation.auto_allocate(
            session=session,
            principal=principal,
            intake=intake,
            guarantee=guarantee,
            batch_id=batch_id,
            request=request,
        )
        allocated = sum(o.allocated for o in result.outcomes)
        return f"已自动分配 {allocated} 笔申请（查看了 {result.scanned} 笔合格申请）"
    raise BatchStateConflict(f"未知操作 {action}")
