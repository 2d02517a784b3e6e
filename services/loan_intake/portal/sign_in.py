"""Sign-in, registration and sign-out of enterprise accounts: the session is loan_intake's
own SME token, in a cookie."""

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from services.loan_intake.accounts import service as accounts
from services.loan_intake.accounts.exceptions import AccountExists, SignInFailed
from services.loan_intake.accounts.schemas import Registration
from services.loan_intake.models import EnterpriseAccount, RevokedSession
from services.loan_intake.portal.pages import PREFIX, form_errors, render_page, safe_next
from shared.attempts import Attempts, TooManyAttempts
from shared.auth import VERIFIED_PERMISSION, Role
from shared.db import SessionDep
from shared.web import (
    client_address,
    end_session,
    form_data,
    problem_text,
    signed_in,
    start_session,
)

sign_in_pages = APIRouter(prefix="/portal", include_in_schema=False)


@sign_in_pages.get("")
@sign_in_pages.get("/")
async def home(request: Request) -> Response:
    if await signed_in(request, role=Role.SME) is None:
        return RedirectResponse(f"{PREFIX}login", status_code=303)
    return RedirectResponse(f"{PREFIX}applications", status_code=303)


@sign_in_pages.get("/login")
async def login_page(request: Request, next: str | None = None) -> Response:
    return render_page(request, "login.html", None, values={}, errors={}, next=safe_next(next))


@sign_in_pages.post("/login")
async def login(request: Request, session: SessionDep) -> Response:
    form = await form_data(request)
    target = safe_next(form.get("next"))
    attempts: Attempts = request.app.state.sign_in_attempts
    who = {"account": form.get("uscc", ""), "address": client_address(request)}
    try:
        await attempts.check_sign_in(**who)
        account = await accounts.sign_in(
            session=session, uscc=form.get("uscc", ""), password=form.get("password", "")
        )
    except (SignInFailed, TooManyAttempts) as error:
        if isinstance(error, SignInFailed):
            await session.rollback()  # nothing of a failure is kept; free the database
            await attempts.failed_sign_in(**who)
        return render_page(
            request,
            "login.html",
            None,
            values={"uscc": form.get("uscc", "")},
            errors={"_form": problem_text(error)},
            next=target,
            status_code=error.status,
        )
    await attempts.succeeded_sign_in(session, **who)
    response = RedirectResponse(target, status_code=303)
    return _signed_in_as(request, response, account)


@sign_in_pages.get("/register")
async def register_page(request: Request) -> Response:
    return render_page(request, "register.html", None, values={}, errors={})


@sign_in_pages.post("/register")
async def register(request: Request, session: SessionDep) -> Response:
    form = await form_data(request)
    values = {k: v for k, v in form.items() if not k.startswith("password")}
    attempts: Attempts = request.app.state.sign_in_attempts
    address = client_address(request)
    try:
        await attempts.check_registration(address=address)
        registration = Registration.model_validate(
            {k: form.get(k, "") for k in Registration.model_fields}
        )
        account = await accounts.register(session=session, registration=registration)
    except (ValidationError, AccountExists, TooManyAttempts) as error:
        if isinstance(error, ValidationError):
            errors = form_errors(error)
        elif isinstance(error, AccountExists):
            errors = {"uscc": problem_text(error)}
        else:
            errors = {"_form": problem_text(error)}
        return render_page(
            request,
            "register.html",
            None,
            values=values,
            errors=errors,
            status_code=error.status if isinstance(error, TooManyAttempts) else 400,
        )
    await attempts.registered(session, address=address)
    response = RedirectResponse(f"{PREFIX}applications/new", status_code=303)
    return _signed_in_as(request, response, account)


def _signed_in_as(request: Request, response: Response, account: EnterpriseAccount) -> Response:
    verified = accounts.is_verified(account)
    start_session(
        request,
        response,
        subject=account.uscc,
        role=Role.SME,
        tenant=account.uscc,
        name=account.enterprise_name,
        account=str(account.id),
        permissions=frozenset({VERIFIED_PERMISSION}) if verified else frozenset(),
    )
    return response


@sign_in_pages.post("/logout")
async def logout(request: Request, session: SessionDep) -> Response:
    await form_data(request)
    response = RedirectResponse(f"{PREFIX}login", status_code=303)
    await end_session(request, response, RevokedSession.__table__, session)  # type: ignore[attr-defined]
    return response
