"""What every portal page shares: templates, who is signed in, errors as the form shows them."""

from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from shared.auth import Principal
from shared.errors import AppError, field_errors_from_pydantic
from shared.web import problem_text, render, templates

PREFIX = "/portal/"
pages = templates(Path(__file__).parent / "templates")


def render_page(
    request: Request, template: str, principal: Principal | None, **context: Any
) -> Response:
    status_code = context.pop("status_code", 200)
    return render(
        request,
        pages,
        template,
        {"prefix": PREFIX, **context},
        status_code=status_code,
        principal=principal,
    )


def refusal(
    request: Request, principal: Principal | None, message: str, status_code: int
) -> Response:
    """Why a step could not be taken, on a page of its own (with the way back)."""
    return render_page(
        request, "not_found.html", principal, message=message, status_code=status_code
    )


def to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"{PREFIX}login?next={quote(target)}", status_code=303)


def safe_next(value: str | None) -> str:
    # Only back into the portal: never an open redirect.
    if value and value.startswith(PREFIX) and not value.startswith("//"):
        return value
    return f"{PREFIX}applications"


def form_errors(error: ValidationError | AppError) -> dict[str, str]:
    """Field name (as in the form: ``enterprise.name``) → the first message for it."""
    if isinstance(error, ValidationError):
        items = field_errors_from_pydantic(list(error.errors()))
    else:
        items = list(getattr(error, "errors", None) or [])
    found: dict[str, str] = {}
    for item in items:
        found.setdefault(item.field, item.message)
    if not found and isinstance(error, AppError):
        found["_form"] = problem_text(error)
    return found
