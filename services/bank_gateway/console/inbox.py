"""The inbox (待办): referred applications to decide, batches awaiting a second approver,
claims decided, dead notifications; and the page where a referred application is decided."""

import uuid
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.bank_gateway.banks import service as banks
from services.bank_gateway.batches import service as batches
from services.bank_gateway.clients import GuaranteeClient, GuaranteeUnavailable
from services.bank_gateway.console.calls import OnBehalf
from services.bank_gateway.console.claims import STATUS_ZH as CLAIM_STATUS_ZH
from services.bank_gateway.console.deliveries import event_zh, reason_zh
from services.bank_gateway.console.pages import back, names, render_page, staff_member, to_login
from services.bank_gateway.deps import GuaranteeDep
from services.bank_gateway.models import BatchStatus, DeliveryStatus
from services.bank_gateway.notifications import service as notifications
from services.bank_gateway.periods import service as periods
from services.bank_gateway.periods.schemas import PeriodSummary
from shared.auth import Principal, Role
from shared.clock import shanghai_today
from shared.db import SessionDep
from shared.errors import AppError
from shared.web import form_data, problem_text, signed_in

inbox_pages = APIRouter(prefix="/console", include_in_schema=False)


@inbox_pages.get("")
@inbox_pages.get("/")
async def inbox(request: Request, session: SessionDep, guarantee: GuaranteeDep) -> Response:
    principal = await staff_member(request)
    if principal is None:
        if await signed_in(request, role=Role.FUND) is not None:
            return back("claims")  # the guarantee fund's desk
        return to_login(request)
    problems: list[str] = []
    asked = await _asked_elsewhere(OnBehalf(request), problems)
    ours = await _our_own(session, principal)
    return render_page(
        request,
        "inbox.html",
        principal,
        people=await names(
            session,
            [b.submitted_by for b in ours["pending"].items]
            + [p.get("submitted_by") for p in asked["policies"]["items"]],
        ),
        closable=await _closable_periods(session, guarantee, problems),
        **asked,
        **ours,
        event_zh=event_zh,
        reason_zh=reason_zh,
        claim_status_zh=CLAIM_STATUS_ZH,
        bank_names={b.code: b.name for b in await banks.all_banks(session=session)},
        problems=problems,
    )


async def _asked_elsewhere(calls: OnBehalf, problems: list[str]) -> dict[str, Any]:
    """From intake: referrals to decide; from the fund: claims and policies to approve."""
    nothing: dict[str, Any] = {"items": [], "total": 0}
    found = {"referred": nothing, "claims": nothing, "policies": nothing}
    try:
        found["referred"] = await calls.get(
            calls.intake, "/v1/applications", status="referred", order="oldest", page_size=50
        )
    except AppError as error:
        problems.append(f"贷款申请服务：{problem_text(error)}")
    try:
        found["claims"] = await calls.get(calls.guarantee, "/v1/claims", limit=20)
        found["policies"] = await calls.get(
            calls.guarantee, "/v1/policies", status="pending_approval", limit=20
        )
    except AppError as error:
        problems.append(f"担保服务：{problem_text(error)}")
    return found


async def _our_own(session: SessionDep, principal: Principal) -> dict[str, Any]:
    """Batches to approve or look into, notifications that have not arrived."""
    found: dict[str, Any] = {}
    for key, status in (
        ("pending", BatchStatus.PENDING_APPROVAL),
        ("suspended", BatchStatus.SUSPENDED),
    ):
        found[key] = await batches.list_batches(
            session=session, principal=principal, bank_code=None, status=status, offset=0, limit=50
        )
    found["dead"] = await notifications.list_deliveries(
        session=session, status=DeliveryStatus.DEAD, bank_code=None, offset=0, limit=50
    )
    # Not yet arrived though tried: a bank without a callback address, or one that is down.
    found["retrying"] = await notifications.list_deliveries(
        session=session,
        status=DeliveryStatus.PENDING,
        bank_code=None,
        offset=0,
        limit=20,
        tried=True,
    )
    return found


async def _closable_periods(
    session: SessionDep, guarantee: GuaranteeClient, problems: list[str]
) -> list[PeriodSummary]:
    """Ended settlement periods not yet closed (the oldest one may be closed now)."""
    try:
        items, _ = await periods.summaries(session, guarantee, shanghai_today())
    except GuaranteeUnavailable as error:
        problems.append(f"结算期：暂时无法读取（{error}）")
        return []
    return [p for p in items if p.status == "open" and p.last_day < shanghai_today()]


@inbox_pages.get("/applications/{application_id}")
async def application_page(
    request: Request, application_id: uuid.UUID, session: SessionDep, error: str = ""
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
        people=await names(session, [h["actor"] for h in application["history"]]),
        documents=await _documents(calls, application_id),
        **_ratios(application),
    )


async def _documents(calls: OnBehalf, application_id: uuid.UUID) -> list[dict[str, Any]] | None:
    """The firm's papers (None: intake did not answer; the page says so)."""
    try:
        found: list[dict[str, Any]] = await calls.get(
            calls.intake, f"/v1/applications/{application_id}/documents"
        )
    except AppError:
        return None
    return found


@inbox_pages.get("/applications/{application_id}/documents/{document_id}")
async def application_document(
    request: Request, application_id: uuid.UUID, document_id: uuid.UUID
) -> Response:
    """A firm's paper, passed through from intake with the reviewer's own rights."""
    principal = await staff_member(request)
    if principal is None:
        return to_login(request)
    calls = OnBehalf(request)
    try:
        found = await calls.raw(
            calls.intake, f"/v1/applications/{application_id}/documents/{document_id}"
        )
    except AppError as failure:
        return render_page(
            request, "message.html", principal, message=problem_text(failure), status_code=404
        )
    kept = ("content-disposition", "x-content-type-options", "content-security-policy")
    return Response(
        found.content,
        media_type=found.headers.get("content-type"),
        headers={k: v for k, v in found.headers.items() if k in kept}
        | {"Cache-Control": "private, no-store"},
    )


def _ratios(application: dict[str, Any]) -> dict[str, Decimal | None]:
    """资产负债率 and the amount against revenue, as the reviewer weighs them."""
    firm = application["enterprise"]
    assets, revenue = Decimal(firm["total_assets"]), Decimal(firm["annual_revenue"])
    debts = firm.get("total_liabilities")
    return {
        "debt_ratio": Decimal(debts) / assets if debts is not None and assets else None,
        "leverage": Decimal(application["loan"]["amount"]) / revenue if revenue else None,
    }


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
