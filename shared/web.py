"""Server-rendered pages: templates, cookie sessions, CSRF, and how money and time read.

Pages are Jinja2 templates rendered on the server; a small script per page adds checks
as the user types (progressive enhancement — every rule is enforced again by the server).
Everything a page needs is served by the service itself: no CDN.

- **Session**: the service's own JWT (the token its API takes too), in an HttpOnly,
  SameSite=Lax cookie, renewed on every page so it lasts while the person works.
- **CSRF**: a random token in a second HttpOnly, SameSite=Strict cookie, repeated in a
  hidden field of every form; a POST whose field differs from the cookie is refused.
- **Headers**: a strict Content-Security-Policy (scripts and styles from this origin only),
  no framing, no sniffing, no referrer leaks.
"""

import json
import re
import secrets
import uuid
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from fastapi import Request, Response
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import sessions
from shared.auth import Principal, Role, TokenIssuer
from shared.errors import AppError, Forbidden, Unauthenticated
from shared.money import percent, yuan

SHANGHAI = ZoneInfo("Asia/Shanghai")
SHARED_TEMPLATES = Path(__file__).parent / "templates"
SHARED_STATIC = Path(__file__).parent / "static"
SESSION_COOKIE = "picidai_session"
CSRF_COOKIE = "picidai_csrf"
CSRF_FIELD = "_csrf"
SESSION_MINUTES = 30


_ENGLISH_GLOSS = re.compile(r"\s*\((?=[^()]*[A-Za-z])[\x20-\x7e]+\)")


def zh_only(text: str | None) -> str:
    """A Chinese text without the English gloss some messages carry for API readers:
    "申请不存在 (application not found)" → "申请不存在"."""
    return _ENGLISH_GLOSS.sub("", text or "").strip()


def shanghai(moment: datetime | str | None, *, with_time: bool = True) -> str:
    """A UTC instant as people here read it: 2026-12-01 18:05 (Asia/Shanghai)."""
    if moment is None or moment == "":
        return "—"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    local = moment.astimezone(SHANGHAI)
    return local.strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")


def day(value: date | str | None) -> str:
    if value is None or value == "":
        return "—"
    return value.isoformat() if isinstance(value, date) else str(value)


def templates(service_templates: Path) -> Jinja2Templates:
    """The service's templates first, then the shared ones (base layout, macros)."""
    environment = Environment(
        loader=ChoiceLoader(
            [FileSystemLoader(service_templates), FileSystemLoader(SHARED_TEMPLATES)]
        ),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        yuan=yuan, shanghai=shanghai, day=day, percent=percent, zh_only=zh_only
    )
    return Jinja2Templates(env=environment)


# --- sessions ---------------------------------------------------------------------------------


def _secure(request: Request) -> bool:
    return getattr(request.app.state.settings, "environment", "") == "production"


async def signed_in(request: Request, *, role: Role) -> Principal | None:
    """Who the session cookie says this is, if it is valid, of ``role`` and its session
    still stands with the issuer (not signed out, the account not deactivated)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        principal = request.app.state.token_verifier.verify(token)
        if principal.role is not role:
            return None
        guard = getattr(request.app.state, "session_guard", None)
        return principal if guard is None else await guard.confirm(principal)
    except Unauthenticated:
        return None


def client_address(request: Request) -> str:
    """The caller's address (the proxy's forwarded one when uvicorn trusts the proxy)."""
    return request.client.host if request.client else "unknown"


def session_token(request: Request) -> str | None:
    """The signed-in person's token, to call the services' APIs on their behalf."""
    return request.cookies.get(SESSION_COOKIE)


def start_session(
    request: Request,
    response: Response,
    *,
    subject: str,
    role: Role,
    tenant: str | None = None,
    permissions: frozenset[str] = frozenset(),
    name: str | None = None,
    session: str | None = None,
    account: str | None = None,
) -> None:
    """Sign in (a new session) or, with ``session``, renew that session's cookie."""
    issuer: TokenIssuer = request.app.state.token_issuer
    token = issuer.issue(
        subject=subject,
        role=role,
        tenant=tenant,
        permissions=permissions,
        name=name,
        ttl=timedelta(minutes=SESSION_MINUTES),
        session=session or uuid.uuid4().hex,
        account=account,
    )
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=SESSION_MINUTES * 60,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
    )


def renew_session(request: Request, response: Response, principal: Principal) -> None:
    """Another SESSION_MINUTES from now: a session ends after that long idle, not in use."""
    start_session(
        request,
        response,
        subject=principal.subject,
        role=principal.role,
        tenant=principal.tenant,
        permissions=principal.permissions,
        name=principal.name,
        session=principal.session,
        account=principal.account,
    )


async def end_session(
    request: Request, response: Response, revoked: sa.Table, db: AsyncSession
) -> None:
    """Sign out: the session is revoked with its issuer (this service), so every cookie and
    bearer copy of it stops working at once, and the cookie is dropped."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        try:
            principal = request.app.state.token_verifier.verify(token)
        except Unauthenticated:
            principal = None
        if principal is not None:
            await sessions.revoke(db, revoked, principal)
            guard = getattr(request.app.state, "session_guard", None)
            if guard is not None:
                guard.forget(principal)
    response.delete_cookie(SESSION_COOKIE, path="/")


# --- CSRF ---------------------------------------------------------------------------------------


class CsrfFailed(Forbidden):
    slug, title = "csrf-failed", "表单已过期，请刷新页面后重试 (form expired: reload the page)"


def csrf_token(request: Request) -> str:
    """The token for this browser's forms; :func:`keep_csrf` sets its cookie."""
    existing = request.cookies.get(CSRF_COOKIE)
    if existing:
        return existing
    token: str = getattr(request.state, "csrf_token", "") or secrets.token_urlsafe(32)
    request.state.csrf_token = token
    return token


def keep_csrf(request: Request, response: Response) -> None:
    if not request.cookies.get(CSRF_COOKIE) and getattr(request.state, "csrf_token", None):
        response.set_cookie(
            CSRF_COOKIE,
            request.state.csrf_token,
            httponly=True,
            samesite="strict",
            secure=_secure(request),
            path="/",
        )


async def form_data(request: Request) -> dict[str, str]:
    """The posted form, once its CSRF field matches the cookie. Checkboxes absent = off."""
    body = (await request.body()).decode("utf-8", errors="replace")
    form: dict[str, str] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        form[key] = value
    expected = request.cookies.get(CSRF_COOKIE)
    given = form.pop(CSRF_FIELD, "")
    if not expected or not secrets.compare_digest(expected, given):
        raise CsrfFailed("表单校验失败：请刷新页面后重新提交")
    return form


async def multipart_form(request: Request, *, max_bytes: int) -> tuple[dict[str, str], Any]:
    """A posted form with one file (its fields, the file or None), once its CSRF field
    matches the cookie. The file is bounded here as the body is by the middleware."""
    form = await request.form(max_files=1, max_fields=20, max_part_size=max_bytes)
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    upload = next((v for v in form.values() if not isinstance(v, str)), None)
    expected = request.cookies.get(CSRF_COOKIE)
    given = fields.pop(CSRF_FIELD, "")
    if not expected or not secrets.compare_digest(expected, given):
        raise CsrfFailed("表单校验失败：请刷新页面后重新提交")
    return fields, upload


def mount_assets(app: Any, prefix: str, service_static: Path) -> None:
    """``{prefix}assets/``: the shared stylesheet; ``{prefix}static/``: the service's scripts."""
    from starlette.staticfiles import StaticFiles

    app.mount(f"{prefix}assets", StaticFiles(directory=SHARED_STATIC), name=f"{prefix}assets")
    app.mount(f"{prefix}static", StaticFiles(directory=service_static), name=f"{prefix}static")
    app.add_middleware(PageHeadersMiddleware, prefix=prefix)


def render(
    request: Request,
    pages: Jinja2Templates,
    template: str,
    context: Mapping[str, Any],
    *,
    status_code: int = 200,
    principal: Principal | None = None,
) -> Response:
    """A page, with its CSRF token (and the session renewed when someone is signed in)."""
    response = pages.TemplateResponse(
        request,
        template,
        {"csrf_token": csrf_token(request), "principal": principal, **context},
        status_code=status_code,
    )
    keep_csrf(request, response)
    if principal is not None:
        renew_session(request, response, principal)
    return response


def problem_text(error: AppError) -> str:
    """What a page says of a refusal: Chinese only."""
    return zh_only(error.detail or error.title)


# --- error pages ------------------------------------------------------------------------------


def install_error_pages(app: Any, prefix: str, pages: Jinja2Templates, template: str) -> None:
    """Under ``prefix``, a browser that meets an error (a mistyped address, a bad query, a
    crash) gets a page in the service's own layout saying so in Chinese — not the API's
    problem+json, which every other caller keeps. ``template`` shows ``message``."""
    for kind, handler in list(app.exception_handlers.items()):

        async def page_or_problem(
            request: Request, exc: Exception, handler: Any = handler
        ) -> Response:
            response = await handler(request, exc)
            if not _wants_page(request, prefix):
                return response
            problem = json.loads(bytes(response.body))
            message = zh_only(problem.get("detail") or problem.get("title"))
            return render(
                request,
                pages,
                template,
                {"prefix": prefix, "message": message, "status": response.status_code},
                status_code=response.status_code,
            )

        app.add_exception_handler(kind, page_or_problem)


def _wants_page(request: Request, prefix: str) -> bool:
    return request.url.path.startswith(prefix) and "text/html" in request.headers.get("accept", "")


# --- security headers -------------------------------------------------------------------------

PAGE_HEADERS = {
    b"content-security-policy": (
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    b"x-frame-options": b"DENY",
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"same-origin",
    b"cache-control": b"no-store",
}


class PageHeadersMiddleware:
    """Security headers on every response under ``prefix`` (the pages and their assets)."""

    def __init__(self, app: ASGIApp, *, prefix: str) -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                headers = list(message.get("headers", []))
                for name, value in PAGE_HEADERS.items():
                    if name == b"cache-control" and scope["path"].startswith(
                        f"{self.prefix}static/"
                    ):
                        continue
                    if name not in present:
                        headers.append((name, value))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
