"""The three-way reconciliation (三方对账) as a page: differences between the ledger, the
guarantee fund and the SMEs' applications, each with its cause, and both sides' totals.
A batch is reconciled on view; the whole portfolio is the worker's last kept run (every
loan read, the other services asked about each: minutes at a city's size), with a button
that asks for a new one."""

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.bank_gateway.clients import GuaranteeUnavailable, IntakeUnavailable
from services.bank_gateway.console.pages import (
    back,
    names,
    render_page,
    staff_member,
    to_login,
)
from services.bank_gateway.ledger import three_way
from shared.db import ReadSessionDep, SessionDep
from shared.web import form_data

reconciliation_pages = APIRouter(prefix="/console/reports", include_in_schema=False)
SOURCE_ZH = {"guarantee": "担保基金", "intake": "企业申请"}


@reconciliation_pages.get("/three-way")
async def three_way_page(
    request: Request, session: ReadSessionDep, batch_id: uuid.UUID | None = None
) -> Response:
    principal = await staff_member(request)
    if principal is None:
        return to_login(request)
    if batch_id is None:
        kept = await three_way.last_run(session=session)
        return render_page(
            request,
            "three_way.html",
            principal,
            report=kept.report,
            kept=kept,
            people=await names(session, [kept.requested_by]),
            source_zh=SOURCE_ZH,
        )
    try:
        report = await three_way.reconcile(
            session=session,
            guarantee=request.app.state.guarantee,
            intake=request.app.state.intake,
            batch_id=batch_id,
        )
    except (GuaranteeUnavailable, IntakeUnavailable) as error:
        return render_page(
            request,
            "message.html",
            principal,
            message=f"对账所需的服务暂不可用，请稍后再试（{error}）",
            status_code=503,
        )
    return render_page(
        request, "three_way.html", principal, report=report, kept=None, source_zh=SOURCE_ZH
    )


@reconciliation_pages.post("/three-way/runs")
async def ask_for_a_run(request: Request, session: SessionDep) -> Response:
    principal = await staff_member(request)
    if principal is None:
        return to_login(request)
    await form_data(request)
    await three_way.request_run(session=session, requested_by=principal.actor)
    return back("reports/three-way", done="已开始全量对账：完成后刷新本页即可看到结果")
