"""The message centre (消息): every step of the firm's applications that someone else took
— the assessment, the bureau's review, the bank, the fund, a subsidy paid — newest first,
with the unread ones marked; the navigation shows how many are unread."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from services.loan_intake.accounts import service as accounts
from services.loan_intake.applications import service
from services.loan_intake.portal.pages import render_page, to_login
from shared.auth import Role, account_of
from shared.clock import utcnow
from shared.db import SessionDep
from shared.web import signed_in

message_pages = APIRouter(prefix="/portal", include_in_schema=False)


@message_pages.get("/messages")
async def messages_page(request: Request, session: SessionDep) -> Response:
    principal = await signed_in(request, role=Role.SME)
    if principal is None:
        return to_login(request)
    account = account_of(principal)
    read_at = await accounts.messages_read_at(session=session, account_id=account)
    found = await service.messages(session=session, principal=principal, read_at=read_at)
    # Seen now: the badge goes back to zero (the request's session commits it).
    await accounts.mark_messages_read(session=session, account_id=account, at=utcnow())
    return render_page(request, "messages.html", principal, messages=found)


@message_pages.get("/messages/unread")
async def unread(request: Request, session: SessionDep) -> Response:
    principal = await signed_in(request, role=Role.SME)
    if principal is None:
        return to_login(request)
    read_at = await accounts.messages_read_at(session=session, account_id=account_of(principal))
    count = await service.unread_count(session=session, principal=principal, read_at=read_at)
    return JSONResponse({"unread": count})
