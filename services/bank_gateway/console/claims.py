"""The guarantee fund's claims desk (担保基金 · 代偿审核): the inbox of claims to review,
confirm and pay, and a claim's page — the loan's whole life as its bank reported it, the
formula's figures and reasons, the batch ceiling's room — with the forms to take, decide,
confirm and record payment. Every step is the guarantee service's API called with the
signed-in person's own token; the bureau reads the same pages without the forms."""

import uuid
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.bank_gateway.banks import service as banks
from services.bank_gateway.console.calls import OnBehalf
from services.bank_gateway.console.pages import back, render_page, to_login
from services.bank_gateway.ledger import loans as ledger
from services.bank_gateway.staff import service as staff
from shared.auth import Principal, Role
from shared.clock import shanghai_today
from shared.db import SessionDep
from shared.errors import AppError
from shared.web import form_data, percent, problem_text, signed_in, yuan

claim_pages = APIRouter(prefix="/console/claims", include_in_schema=False)

STATUS_ZH = {
    "submitted": "待审核",
    "under_review": "审核中",
    "awaiting_second": "待复核",
    "approved": "已同意，待支付",
    "reduced": "已核减，待支付",
    "denied": "不予代偿",
    "paid": "已支付",
}
# Each inbox tab: the statuses it lists.
TABS = {
    "review": ("待审核", ["submitted", "under_review"]),
    "second": ("待复核", ["awaiting_second"]),
    "payment": ("待支付", ["approved", "reduced"]),
    "all": ("全部", []),
}
EVENT_ZH = {
    "loan.approved": "银行批准",
    "loan.declined": "银行拒绝",
    "loan.disbursed": "放款",
    "loan.repayment": "还款",
    "loan.overdue": "逾期",
    "loan.defaulted": "违约",
    "claim.submitted": "申请代偿",
    "loan.recovered": "追回",
    "loan.settled": "结清",
}
FIELD_ZH = {
    "approved_amount": "批准金额",
    "annual_interest_rate": "年利率",
    "approved_on": "批准日",
    "reason": "原因",
    "declined_on": "拒绝日",
    "amount": "金额",
    "disbursed_on": "放款日",
    "maturity_on": "到期日",
    "principal": "本金",
    "interest": "利息",
    "paid_on": "还款日",
    "overdue_principal": "逾期本金",
    "since": "逾期起始日",
    "outstanding_principal": "未偿本金",
    "interest_due": "欠息",
    "defaulted_on": "违约日",
    "submitted_on": "申请日",
    "recovered_on": "追回日",
    "settled_on": "结清日",
    "interest_paid_total": "累计利息",
}
MONEY_FIELDS = {
    "approved_amount",
    "amount",
    "principal",
    "interest",
    "overdue_principal",
    "outstanding_principal",
    "interest_due",
    "interest_paid_total",
}


async def reader(request: Request) -> Principal | None:
    """The fund's staff, or the bureau's (who read claims but do not decide them)."""
    return await signed_in(request, role=Role.FUND) or await signed_in(request, role=Role.BUREAU)


def _facts(data: dict[str, Any]) -> list[tuple[str, str]]:
    """An event's figures as (label, value as people read it) for the page."""
    return [
        (FIELD_ZH.get(k, k), _shown(k, v))
        for k, v in data.items()
        if k != "loan_id" and v is not None
    ]


def _shown(field: str, value: Any) -> str:
    try:
        if field in MONEY_FIELDS:
            return yuan(value)
        if field == "annual_interest_rate":
            return percent(value)
    except ArithmeticError:  # a refused event may carry anything: show it as sent
        pass
    return str(value)


@claim_pages.get("")
async def claims_inbox(
    request: Request, session: SessionDep, tab: str = "review", page: int = 1
) -> Response:
    principal = await reader(request)
    if principal is None:
        return to_login(request)
    tab = tab if tab in TABS else "review"
    page = max(page, 1)
    calls = OnBehalf(request)
    params: dict[str, Any] = {"offset": (page - 1) * 20, "limit": 20}
    if TABS[tab][1]:
        params["status"] = TABS[tab][1]
    try:
        listed = await calls.get(calls.guarantee, "/v1/claims", **params)
    except AppError as failure:
        return render_page(request, "message.html", principal, message=problem_text(failure))
    names = await ledger.enterprise_names(
        session=session, loan_ids=[uuid.UUID(c["loan_id"]) for c in listed["items"]]
    )
    return render_page(
        request,
        "claims.html",
        principal,
        claims=listed,
        names={str(k): v for k, v in names.items()},
        bank_names={b.code: b.name for b in await banks.all_banks(session=session)},
        people=await staff.names_of(
            session=session, actors=[c.get("reviewer") for c in listed["items"]]
        ),
        tab=tab,
        tabs=TABS,
        page=page,
        status_zh=STATUS_ZH,
    )


@claim_pages.get("/{loan_id}")
async def claim_page(
    request: Request, loan_id: uuid.UUID, session: SessionDep, done: str = "", error: str = ""
) -> Response:
    principal = await reader(request)
    if principal is None:
        return to_login(request)
    calls = OnBehalf(request)
    try:
        claim = await calls.get(calls.guarantee, f"/v1/claims/{loan_id}")
        room = await calls.get(calls.guarantee, f"/v1/claims/{loan_id}/room")
        papers = await calls.get(calls.guarantee, f"/v1/claims/{loan_id}/documents")
    except AppError as failure:
        return render_page(
            request, "message.html", principal, message=problem_text(failure), status_code=404
        )
    history = await ledger.loan_history(session=session, loan_id=loan_id)
    bank = await banks.by_id(session=session, bank_id=history.batch.bank_id) if history else None
    events = [
        {
            "type_zh": EVENT_ZH.get(e.event_type, e.event_type),
            "status": e.status,
            "received_at": e.received_at,
            "facts": _facts(dict((e.payload or {}).get("data") or {})),
        }
        for e in (history.events if history else [])
    ]
    people = await staff.names_of(
        session=session,
        actors=[claim.get(k) for k in ("reviewer", "recommended_by", "decided_by", "paid_by")],
    )
    return render_page(
        request,
        "claim.html",
        principal,
        claim=claim,
        people=people,
        room=room,
        loan=history.loan if history else None,
        batch=history.batch if history else None,
        bank_name=bank.name if bank else claim["bank_code"],
        events=events,
        papers=papers,
        status_zh=STATUS_ZH,
        fund=principal.role is Role.FUND,
        due=_due(claim),
        today=shanghai_today().isoformat(),
        done=done,
        error=error,
    )


def _due(claim: dict[str, Any]) -> str:
    """Decided and not yet paid."""
    return str(Decimal(claim["payout"]) - Decimal(claim["paid"]))


@claim_pages.get("/{loan_id}/documents/{document_id}")
async def paper(request: Request, loan_id: uuid.UUID, document_id: uuid.UUID) -> Response:
    """A claim's paper, passed on from the guarantee service as a download."""
    principal = await reader(request)
    if principal is None:
        return to_login(request)
    calls = OnBehalf(request)
    try:
        answer = await calls.raw(calls.guarantee, f"/v1/claims/{loan_id}/documents/{document_id}")
    except AppError as failure:
        return render_page(
            request, "message.html", principal, message=problem_text(failure), status_code=404
        )
    kept = ("content-type", "content-disposition", "x-content-type-options")
    headers = {k: v for k, v in answer.headers.items() if k.lower() in kept}
    headers["Content-Security-Policy"] = "sandbox"
    headers["Cache-Control"] = "private, no-store"
    return Response(content=answer.content, headers=headers)


async def _act(request: Request, loan_id: uuid.UUID, step: str, body: Any, done: str) -> Response:
    principal = await signed_in(request, role=Role.FUND)
    if principal is None:
        return to_login(request)
    calls = OnBehalf(request)
    try:
        await calls.post(calls.guarantee, f"/v1/claims/{loan_id}/{step}", body)
    except AppError as failure:
        return back(f"claims/{loan_id}", error=problem_text(failure))
    return back(f"claims/{loan_id}", done=done)


@claim_pages.post("/{loan_id}/take")
async def take(request: Request, loan_id: uuid.UUID) -> Response:
    await form_data(request)
    return await _act(request, loan_id, "take", None, "已认领，请审核")


@claim_pages.post("/{loan_id}/decision")
async def decide(request: Request, loan_id: uuid.UUID) -> Response:
    form = await form_data(request)
    body = {
        "verdict": form.get("verdict", ""),
        "amount": form.get("amount", "").replace(",", "").strip() or None,
        "reason": form.get("reason", "").strip() or None,
    }
    if body["verdict"] != "reduce":
        body["amount"] = None
    return await _act(request, loan_id, "decision", body, "审核意见已提交")


@claim_pages.post("/{loan_id}/second-review")
async def second_review(request: Request, loan_id: uuid.UUID) -> Response:
    form = await form_data(request)
    body = {"agree": form.get("agree") == "yes", "note": form.get("note", "").strip() or None}
    return await _act(request, loan_id, "second-review", body, "复核意见已记录")


@claim_pages.post("/{loan_id}/payments")
async def pay(request: Request, loan_id: uuid.UUID) -> Response:
    form = await form_data(request)
    body = {
        "paid_on": form.get("paid_on", ""),
        "reference": form.get("reference", "").strip(),
        "amount": form.get("amount", "").replace(",", "").strip(),
    }
    return await _act(request, loan_id, "payments", body, "代偿支付已登记，将通知银行")
