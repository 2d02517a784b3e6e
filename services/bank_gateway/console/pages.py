"""What every console page shares: templates, who is signed in, redirects with a message."""

from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from services.bank_gateway.models import BATCH_STATUS_ZH
from services.bank_gateway.staff import service as staff
from shared.auth import APPROVE_PERMISSION, Principal, Role, person_of
from shared.web import render, signed_in, templates

PREFIX = "/console/"
pages = templates(Path(__file__).parent / "templates")

# A batch's status coloured by meaning (the stylesheet's badge tones).
BATCH_TONES = {
    "draft": "info",
    "pending_approval": "warn",
    "approved": "info",
    "open": "ok",
    "suspended": "bad",
    "closed": "muted",
}

LOAN_STATE_ZH = {
    "allocated": "已分配",
    "approved": "已批准",
    "declined": "未批准",
    "disbursed": "已放款",
    "repaying": "还款中",
    "overdue": "逾期",
    "defaulted": "违约",
    "claimed": "代偿审核中",
    "compensated": "已代偿",
    "recovering": "追偿中",
    "settled": "已结清",
    "unguaranteed": "未获担保",
}


def render_page(
    request: Request, template: str, principal: Principal | None, **context: Any
) -> Response:
    """``people`` (actor → name, from :func:`names`) lets the page write ``who(actor)``."""
    status_code = context.pop("status_code", 200)
    people: dict[str, str] = context.get("people") or {}
    context.setdefault("who", lambda actor: _who(actor, people))
    return render(
        request,
        pages,
        template,
        {
            "prefix": PREFIX,
            "batch_status_zh": BATCH_STATUS_ZH,
            "batch_tone": BATCH_TONES,
            "loan_state_zh": LOAN_STATE_ZH,
            "approver": principal is not None and APPROVE_PERMISSION in principal.permissions,
            **context,
        },
        status_code=status_code,
        principal=principal,
    )


def _who(actor: str | None, people: dict[str, str]) -> str:
    """A person's name, never a login id: ``bureau:alice`` → 张丽; the system's own steps
    (``system:seed``) → 系统."""
    if not actor:
        return "—"
    if actor in people and people[actor] != actor:
        return people[actor]
    if actor.startswith("system:"):
        return "系统（初始数据）" if actor == "system:seed" else "系统"
    role, _, subject = actor.partition(":")
    if role == "sme":
        return "企业（门户账号）"
    if role == "bank":
        return f"合作银行（{subject}）"
    return _SERVICES_ZH.get(person_of(actor), person_of(actor))


# The services as their steps appear in a history (``service:guarantee`` or ``guarantee``).
_SERVICES_ZH = {
    "guarantee": "担保基金（系统评估）",
    "loan_intake": "系统",
    "bank_gateway": "银行接口（系统）",
}


async def names(session: AsyncSession, actors: Iterable[str | None]) -> dict[str, str]:
    return await staff.names_of(session=session, actors=list(actors))


async def staff_member(request: Request) -> Principal | None:
    return await signed_in(request, role=Role.BUREAU)


def to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"{PREFIX}login?next={quote(target)}", status_code=303)


def back(path: str, **message: str) -> RedirectResponse:
    """See other: ``{PREFIX}{path}``, with ``done=`` or ``error=`` for the page to show."""
    if message:
        path += ("&" if "?" in path else "?") + urlencode(message)
    return RedirectResponse(f"{PREFIX}{path}", status_code=303)


def safe_next(value: str | None) -> str:
    # Only back into the console: never an open redirect.
    if value and value.startswith(PREFIX) and not value.startswith("//"):
        return value
    return PREFIX
