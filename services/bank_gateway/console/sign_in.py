"""Staff sign-in and sign-out: the session is the gateway's own bureau token, in a cookie."""

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.bank_gateway.console.pages import PREFIX, render_page, safe_next
from services.bank_gateway.models import RevokedSession
from services.bank_gateway.staff import service as staff
from services.bank_gateway.staff.exceptions import StaffSignInFailed
from shared.attempts import Attempts, TooManyAttempts
from shared.auth import APPROVE_PERMISSION, Role
from shared.db import SessionDep
from shared.web import client_address, end_session, form_data, problem_text, start_session

sign_in_pages = APIRouter(prefix="/console", include_in_schema=False)


@sign_in_pages.get("/login")
async def login_page(request: Request, next: str | None = None) -> Response:
    return render_page(request, "login.html", None, values={}, error="", next=safe_next(next))


@sign_in_pages.post("/login")
async def login(request: Request, session: SessionDep) -> Response:
    form = await form_data(request)
    target = safe_next(form.get("next"))
    attempts: Attempts = request.app.state.sign_in_attempts
    who = {"account": form.get("username", ""), "address": client_address(request)}
    try:
        await attempts.check_sign_in(**who)
        account = await staff.sign_in(
            session=session, username=form.get("username", ""), password=form.get("password", "")
        )
    except (StaffSignInFailed, TooManyAttempts) as error:
        if isinstance(error, StaffSignInFailed):
            await session.rollback()  # nothing of a failure is kept; free the database
            await attempts.failed_sign_in(**who)
        return render_page(
            request,
            "login.html",
            None,
            values={"username": form.get("username", "")},
            error=problem_text(error),
            next=target,
            status_code=error.status,
        )
    await attempts.succeeded_sign_in(session, **who)
    response = RedirectResponse(target, status_code=303)
    start_session(
        request,
        response,
        subject=account.username,
        role=Role(account.role),
        permissions=frozenset({APPROVE_PERMISSION}) if account.approver else frozenset(),
        name=account.display_name,
    )
    return response


@sign_in_pages.post("/logout")
async def logout(request: Request, session: SessionDep) -> Response:
    await form_data(request)
    response = RedirectResponse(f"{PREFIX}login", status_code=303)
    await end_session(request, response, RevokedSession.__table__, session)  # type: ignore[attr-defined]
    return response
