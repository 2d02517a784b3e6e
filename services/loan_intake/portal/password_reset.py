"""忘记密码: the code is sent to the phone of a verified account of the firm; with it, a new
password. The same answer whether or not the firm, the phone or an account exists, and the
sign-in throttle counts requests and wrong codes alike."""

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from services.loan_intake.accounts import resets
from services.loan_intake.accounts.exceptions import ResetFailed
from services.loan_intake.accounts.schemas import NewPassword
from services.loan_intake.portal.pages import PREFIX, form_errors, render_page
from shared.attempts import Attempts, TooManyAttempts
from shared.db import SessionDep
from shared.web import client_address, form_data, problem_text

reset_pages = APIRouter(prefix="/portal", include_in_schema=False)


@reset_pages.get("/password-reset")
async def ask_page(request: Request) -> Response:
    return render_page(request, "password_reset.html", None, values={}, errors={}, sent=False)


@reset_pages.post("/password-reset")
async def ask(request: Request, session: SessionDep) -> Response:
    form = await form_data(request)
    uscc, phone = form.get("uscc", "").strip().upper(), form.get("phone", "").strip()
    attempts: Attempts = request.app.state.sign_in_attempts
    who = {"account": uscc, "address": client_address(request)}
    try:
        await attempts.check_sign_in(**who)
    except TooManyAttempts as error:
        return render_page(
            request,
            "password_reset.html",
            None,
            values={"uscc": uscc},
            errors={"_form": problem_text(error)},
            sent=False,
            status_code=error.status,
        )
    # Each request counts as a failed sign-in: codes cannot be sprayed at a firm's phone.
    await attempts.failed_sign_in(**who)
    await resets.request_code(
        session=session, channel=request.app.state.outbound, uscc=uscc, phone=phone
    )
    return render_page(
        request, "password_reset.html", None, values={"uscc": uscc}, errors={}, sent=True
    )


@reset_pages.post("/password-reset/confirm")
async def confirm(request: Request, session: SessionDep) -> Response:
    form = await form_data(request)
    uscc = form.get("uscc", "").strip().upper()
    attempts: Attempts = request.app.state.sign_in_attempts
    who = {"account": uscc, "address": client_address(request)}
    try:
        await attempts.check_sign_in(**who)
        change = NewPassword.model_validate({k: form.get(k, "") for k in NewPassword.model_fields})
        await resets.reset(session=session, change=change)
    except ValidationError as error:
        return _again(request, uscc, form_errors(error), 400)
    except ResetFailed as error:
        # The try counted on the code itself is kept; then the throttle counts it (in a
        # transaction of its own, which SQLite's one writer needs this one to have ended).
        await session.commit()
        await attempts.failed_sign_in(**who)
        return _again(request, uscc, {"_form": problem_text(error)}, error.status)
    except TooManyAttempts as error:
        return _again(request, uscc, {"_form": problem_text(error)}, error.status)
    # Proven by the code: the tries counted against this firm from here are forgiven.
    await attempts.succeeded_sign_in(session, **who)
    return RedirectResponse(f"{PREFIX}login?reset=1", status_code=303)


def _again(request: Request, uscc: str, errors: dict[str, str], status: int) -> Response:
    return render_page(
        request,
        "password_reset.html",
        None,
        values={"uscc": uscc},
        errors=errors,
        sent=True,
        status_code=status,
    )
