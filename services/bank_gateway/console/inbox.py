"""The inbox (待办): referred applications to decide, batches awaiting a second approver,
claims decided, dead notifications; and the page where a referred application is decided."""

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.bank_gateway.banks import service as banks
from services.bank_gateway.batches import service as batches
from services.bank_gateway.console.calls import OnBehalf
from services.bank_gateway.console.claims import STATUS_ZH as CLAIM_STATUS_ZH
from services.bank_gateway.console.deliveries import event_zh, reason_zh
from services.bank_gateway.console.pages import back, render_page, staff_member, to_login
from services.bank_gateway.models import BatchStatus, DeliveryStatus
from services.bank_gateway.notifications import service as notifications
from shared.auth import Role
from shared.db import SessionDep
from shared.errors import AppError
from shared.web import form_data, problem_text, signed_in

inbox_pages = APIRouter(prefix="/console", include_in_schema=False)


@inbox_pages.get("")
@inbox_pages.get("/")
async def inbox(request: Request, session: SessionDep) -> Response:
    principal = await staff_member(request)
    if principal is None:
        if await signed_in(request, role=Role.FUND) is not None:
            return back("claims")  # the guarantee fund's desk
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
    pending = await batches.list_batches(
        session=session,
        principal=principal,
        bank_code=None,
        status=BatchStatus.PENDING_APPROVAL,
        offset=0,
        limit=50,
    )
    dead = await notifications.list_deliveries(
        session=session, status=DeliveryStatus.DEAD, bank_code=None, offset=0, limit=50
    )
    # Not yet arrived though tried: a bank without a callback address, or one that is down.
    retrying = await notifications.list_deliveries(
        session=session,
        status=DeliveryStatus.PENDING,
        bank_code=None,
        offset=0,
        limit=20,
        tried=True,
    )
    return render_page(
        request,
        "inbox.html",
        principal,
        referred=referred,
        claims=claims,
        pending=pending,
        dead=dead,
        retrying=retrying,
        event_zh=event_zh,
        reason_zh=reason_zh,
        claim_status_zh=CLAIM_STATUS_ZH,
        bank_names={b.code: b.name for b in await banks.all_banks(session=session)},
        problems=problems,
    )


@inbox_pages.get("/applications/{application_id}")
async def application_page(
    request: Request, application_id: uuid.UUID, error: str = ""
) -> Response:
    principal = await staff_member(request)
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


@inbox_pages.post("/applications/{application_id}/review")
async def review(request: Request, application_id: uuid.UUID) -> Response:
    principal = await staff_member(request)
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
