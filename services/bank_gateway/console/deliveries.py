"""Notifications to banks and updates to loan_intake: what died, and sending it again."""

import uuid

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from services.bank_gateway.console.pages import back, render_page, staff_member, to_login
from services.bank_gateway.models import DeliveryStatus
from services.bank_gateway.notifications import service as notifications
from shared.db import SessionDep
from shared.errors import AppError
from shared.web import form_data, problem_text

delivery_pages = APIRouter(prefix="/console", include_in_schema=False)


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
