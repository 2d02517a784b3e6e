"""Verifying the firm behind an SME account through the city's identity platform (一网通办,
OpenID Connect): the portal sends the person there and takes them back
(services/loan_intake/accounts/oidc.py does the protocol)."""

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.loan_intake.accounts import service as accounts
from services.loan_intake.accounts.exceptions import VerificationFailed, VerificationMismatch
from services.loan_intake.accounts.oidc import PENDING_SECONDS, IdentityPlatform, PendingCookie
from services.loan_intake.portal.pages import PREFIX, to_login
from shared.auth import Role, account_of
from shared.db import SessionDep
from shared.web import signed_in

verify_pages = APIRouter(prefix="/portal", include_in_schema=False)

PENDING_COOKIE = "picidai_oidc"
CALLBACK = f"{PREFIX}verify/callback"


def _back(outcome: str) -> RedirectResponse:
    """To the applications page with a fixed message by code (never text from the URL)."""
    response = RedirectResponse(f"{PREFIX}applications?verify={outcome}", status_code=303)
    response.delete_cookie(PENDING_COOKIE, path=CALLBACK)
    return response


def _redirect_uri(request: Request) -> str:
    return str(request.url.replace(path=CALLBACK, query=""))


@verify_pages.get("/verify")
async def start(request: Request) -> Response:
    principal = await signed_in(request, role=Role.SME)
    account = account_of(principal) if principal is not None else None
    if account is None:
        return to_login(request)
    platform: IdentityPlatform | None = request.app.state.identity_platform
    if platform is None:
        return _back("unavailable")
    try:
        url, pending = await platform.start(account=account, redirect_uri=_redirect_uri(request))
    except VerificationFailed:
        return _back("failed")
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        PENDING_COOKIE,
        request.app.state.oidc_pending.dump(pending),
        max_age=PENDING_SECONDS,
        httponly=True,
        samesite="lax",  # the platform sends the browser back with a top-level GET
        secure=request.app.state.settings.environment == "production",
        path=CALLBACK,
    )
    return response


@verify_pages.get("/verify/callback")
async def callback(
    request: Request,
    session: SessionDep,
    code: str | None = None,
    state: str | None = None,
    error: str | None = None,
) -> Response:
    principal = await signed_in(request, role=Role.SME)
    account = account_of(principal) if principal is not None else None
    if account is None:
        return to_login(request)
    cookies: PendingCookie = request.app.state.oidc_pending
    pending = cookies.load(request.cookies.get(PENDING_COOKIE))
    platform: IdentityPlatform | None = request.app.state.identity_platform
    # A callback this browser did not start, for another account, or late: nothing happens.
    if pending is None or platform is None or pending.account != account:
        return _back("expired")
    if error or not code or state != pending.state:
        return _back("cancelled")
    try:
        uscc, subject = await platform.finish(
            code=code, pending=pending, redirect_uri=_redirect_uri(request)
        )
        await accounts.verify(
            session=session,
            account_id=account,
            uscc=uscc,
            how=f"一网通办 {platform.issuer} sub={subject}",
        )
    except VerificationMismatch:
        return _back("mismatch")
    except VerificationFailed:
        return _back("failed")
    assert principal is not None
    # This replica asks afresh on the next page (others within the guard's seconds).
    request.app.state.session_guard.forget(principal)
    return _back("done")
