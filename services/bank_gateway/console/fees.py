"""担保费实收 in the guarantee fund's console: find a guaranteed loan by its firm, read its fee
schedule — each period's fee, the district's subsidy, what the firm owes and what it has
paid — and record a receipt against a period. The guarantee service checks and keeps the
receipt (the signed-in person's own token); the bureau reads the same pages without the form."""

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from services.bank_gateway.console.calls import OnBehalf
from services.bank_gateway.console.pages import back, render_page, to_login
from services.bank_gateway.ledger import loans as ledger
from shared.auth import Principal, Role
from shared.clock import shanghai_today
from shared.db import SessionDep
from shared.errors import AppError
from shared.web import form_data, problem_text, signed_in

fee_pages = APIRouter(prefix="/console/fees", include_in_schema=False)
PAGE = 20


async def _reader(request: Request) -> Principal | None:
    return await signed_in(request, role=Role.FUND) or await signed_in(request, role=Role.BUREAU)


@fee_pages.get("")
async def fee_list(
    request: Request,
    session: SessionDep,
    q: str = Query("", max_length=60),
    page: int = Query(1, ge=1, le=10_000),
) -> Response:
    principal = await _reader(request)
    if principal is None:
        return to_login(request)
    loans, total = await ledger.lent_matching(
        session=session, text=q, offset=(page - 1) * PAGE, limit=PAGE
    )
    return render_page(
        request, "fees.html", principal, loans=loans, total=total, q=q, page=page, size=PAGE
    )


def _periods(guarantee: dict[str, Any], receipts: dict[str, Any]) -> list[dict[str, Any]]:
    """Each fee period with what the firm paid of it so far and what is still open."""
    paid: dict[str, Decimal] = {}
    for r in receipts["items"]:
        paid[r["period_from"]] = paid.get(r["period_from"], Decimal(0)) + Decimal(r["amount"])
    rows = []
    for p in guarantee["schedule"]:
        got = paid.get(p["period_from"], Decimal(0))
        rows.append({**p, "collected": got, "open": Decimal(p["payable"]) - got})
    return rows


@fee_pages.get("/{loan_id}")
async def fee_page(request: Request, loan_id: uuid.UUID, session: SessionDep) -> Response:
    principal = await _reader(request)
    if principal is None:
        return to_login(request)
    calls = OnBehalf(request)
    try:
        loan = await ledger.get_loan(session=session, loan_id=loan_id)
        guarantee = await calls.get(calls.guarantee, f"/v1/guarantees/{loan_id}")
        receipts = await calls.get(calls.guarantee, f"/v1/guarantees/{loan_id}/fee-collections")
    except AppError as failure:
        message = problem_text(failure)
        return render_page(request, "message.html", principal, message=message, status_code=404)
    periods = _periods(guarantee, receipts)
    return render_page(
        request,
        "fee.html",
        principal,
        loan=loan,
        guarantee=guarantee,
        receipts=receipts,
        periods=periods,
        owing=[p for p in periods if p["open"] > 0],
        may_record=principal.role is Role.FUND,
        today=shanghai_today().isoformat(),
    )


@fee_pages.post("/{loan_id}")
async def record(request: Request, loan_id: uuid.UUID) -> Response:
    principal = await signed_in(request, role=Role.FUND)
    if principal is None:
        return to_login(request)
    form = await form_data(request)
    try:
        date.fromisoformat(form.get("period_from", ""))
    except ValueError:
        return back(f"fees/{loan_id}", error="请选择收费期")
    try:
        date.fromisoformat(form.get("collected_on", ""))
    except ValueError:
        return back(f"fees/{loan_id}", error="请填写收款日期（年-月-日）")
    body = {
        "period_from": form.get("period_from", ""),
        "amount": form.get("amount", "").replace(",", "").replace("¥", "").strip(),
        "collected_on": form.get("collected_on", ""),
        "reference": form.get("reference", "").strip(),
    }
    calls = OnBehalf(request)
    try:
        await calls.post(calls.guarantee, f"/v1/guarantees/{loan_id}/fee-collections", body)
    except AppError as failure:
        return back(f"fees/{loan_id}", error=problem_text(failure))
    return back(
        f"fees/{loan_id}",
        done=f"已登记实收 ¥{Decimal(body['amount']):,}（凭证 {body['reference']}）",
    )
