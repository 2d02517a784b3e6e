"""Notifications to banks and updates to loan_intake: what died, and sending it again."""

import uuid

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from services.bank_gateway.banks import service as banks
from services.bank_gateway.console.pages import back, render_page, staff_member, to_login
from services.bank_gateway.models import DeliveryStatus
from services.bank_gateway.notifications import service as notifications
from shared.db import SessionDep
from shared.errors import AppError
from shared.web import form_data, problem_text

delivery_pages = APIRouter(prefix="/console", include_in_schema=False)

# What each notification is, as the bureau names it.
EVENT_ZH = {
    "batch.opened": "批次开放通知",
    "batch.loans_added": "批次追加贷款",
    "batch.suspended": "批次暂停通知",
    "batch.reopened": "批次重新开放",
    "batch.closed": "批次关闭通知",
    "claim.decided": "代偿审核结果",
    "claim.paid": "代偿支付通知",
    "claim.refused": "代偿申请不予受理",
    "filing.refused": "备案未通过",
    "recovery.shared": "追偿分成",
    "subsidy.paid": "补贴到账",
    "guarantee.filing": "备案",
    "guarantee.claim": "代偿申请",
    "guarantee.outstanding": "在保余额更新",
    "guarantee.overdue": "逾期报告",
    "guarantee.recovery": "追偿报告",
    "guarantee.release": "解保",
    "guarantee.topups": "代偿补足",
}
TARGET_ZH = {"intake": "企业端（申请进度）", "guarantee": "担保基金"}


def reason_zh(error: str | None) -> str:
    """Why a notification has not arrived, in words (a bare HTTP status explained)."""
    if not error:
        return ""
    if error.startswith("HTTP 5"):
        return f"对方服务器出错（{error[:8]}），稍后自动重试"
    if error.startswith("HTTP 4"):
        return f"对方拒收（{error[:8]}）"
    if error[:1].isascii():
        return f"无法送达（{error[:80]}）"
    return error


def event_zh(event_type: str) -> str:
    if event_type in EVENT_ZH:
        return EVENT_ZH[event_type]
    if event_type.startswith("loan."):
        return "申请进度更新"
    return event_type


@delivery_pages.get("/deliveries")
async def deliveries_page(
    request: Request,
    session: SessionDep,
    status: str = "dead",
    page: int = Query(1, ge=1, le=10_000),
    done: str = "",
    error: str = "",
) -> Response:
    principal = await staff_member(request)
    if principal is None:
        return to_login(request)
    chosen = DeliveryStatus(status) if status in DeliveryStatus.__members__.values() else None
    listed = await notifications.list_deliveries(
        session=session, status=chosen, bank_code=None, offset=(page - 1) * 50, limit=50
    )
    bank_names = {b.code: b.name for b in await banks.all_banks(session=session)}
    return render_page(
        request,
        "deliveries.html",
        principal,
        listed=listed,
        status=status,
        page=page,
        done=done,
        error=error,
        bank_names=bank_names,
        target_zh=TARGET_ZH,
        event_zh=event_zh,
        reason_zh=reason_zh,
    )


@delivery_pages.post("/deliveries/{delivery_id}/redelivery")
async def redeliver(request: Request, delivery_id: uuid.UUID, session: SessionDep) -> Response:
    principal = await staff_member(request)
    if principal is None:
        return to_login(request)
    await form_data(request)
    try:
        await notifications.redeliver(session=session, principal=principal, delivery_id=delivery_id)
    except AppError as failure:
        return back("deliveries", error=problem_text(failure))
    return back("deliveries", done="已重新投递")
