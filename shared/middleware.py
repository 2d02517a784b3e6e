"""Pure-ASGI middleware (never ``BaseHTTPMiddleware``: it breaks context variables).

- :func:`install_request_context` — takes or makes ``X-Request-ID`` (asgi-correlation-id),
  clears structlog's context for each request and writes one access-log line.
- :class:`BodyLimitMiddleware` — refuses bodies over the configured size with 413.
- :class:`JsonContentTypeMiddleware` — refuses a body under ``/v1`` that is not JSON (415).
"""

import re
import time
from email.message import Message as MimeMessage

import structlog
from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import PayloadTooLarge, UnsupportedMediaType, problem_response

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_SHAPE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

log = structlog.get_logger("http")


def _acceptable_request_id(value: str) -> bool:
    # Any id another system gives us is kept (so it can be followed), but never
    # something that could forge log lines.
    return bool(_REQUEST_ID_SHAPE.match(value))


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        structlog.contextvars.clear_contextvars()
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            path = scope.get("path", "")
            if path not in ("/healthz", "/readyz", "/metrics"):
                log.info(
                    "http.request",
                    method=scope.get("method"),
                    path=path,
                    status=status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                )


# Document uploads (a claim's papers, a firm's licence): the file itself (or the portal's
# form carrying it), not JSON, and may be larger than a JSON document; every other write
# stays under the small limit.
UPLOAD_PATH = re.compile(r"^/(v1|portal)/[^?]+/(claim-)?documents$")


def is_upload(scope: Scope) -> bool:
    return scope["method"] == "POST" and bool(UPLOAD_PATH.match(scope["path"]))


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int, max_upload_bytes: int = 0) -> None:
        self.app = app
        self.json_max_bytes = max_bytes
        self.upload_max_bytes = max(max_upload_bytes, max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.upload_max_bytes if is_upload(scope) else self.json_max_bytes
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, receive, send, limit)
            return

        received = 0

        async def counting_receive() -> Message:
            # A body without Content-Length is counted as it arrives. FastAPI turns any
            # error met while reading a body into a 400 except an HTTPException, so that
            # is what we raise; the app's handler renders it as the 413 problem.
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413, detail=self._error(limit).detail)
            return message

        await self.app(scope, counting_receive, send)

    def _error(self, limit: int) -> PayloadTooLarge:
        return PayloadTooLarge(detail=f"请求体超过 {limit} 字节上限 (body over {limit} bytes)")

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        error = self._error(limit)
        await problem_response(error, instance=scope.get("path"))(scope, receive, send)


class JsonContentTypeMiddleware:
    """A write to the JSON API must say it is JSON; anything else is 415, not a 422."""

    def __init__(self, app: ASGIApp, *, prefix: str = "/v1/") -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in ("POST", "PUT", "PATCH")
            and scope["path"].startswith(self.prefix)
            and not is_upload(scope)  # a document's own type is checked by its route
        ):
            headers = dict(scope["headers"])
            has_body = headers.get(b"content-length", b"0") != b"0" or (
                b"transfer-encoding" in headers
            )
            content_type = headers.get(b"content-type", b"").decode("latin-1")
            if has_body and not _is_json(content_type):
                error = UnsupportedMediaType(
                    detail=(
                        f"请求体必须是 JSON (Content-Type: application/json)，收到 "
                        f"'{content_type or '无'}'"
                    )
                )
                await problem_response(error, instance=scope["path"])(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _is_json(content_type: str) -> bool:
    if not content_type:
        return False
    mime = MimeMessage()
    mime["content-type"] = content_type
    if mime.get_content_maintype() != "application":
        return False
    subtype = mime.get_content_subtype()
    return subtype == "json" or subtype.endswith("+json")


def install_middleware(app: FastAPI, *, max_body_bytes: int, max_upload_bytes: int = 0) -> None:
    """Install the request pipeline: request id outermost, so even a 413 carries one."""
    app.add_middleware(JsonContentTypeMiddleware)
    app.add_middleware(
        BodyLimitMiddleware, max_bytes=max_body_bytes, max_upload_bytes=max_upload_bytes
    )
    app.add_middleware(AccessLogMiddleware)
    app.add_middleware(
        CorrelationIdMiddleware,
        header_name=REQUEST_ID_HEADER,
        validator=_acceptable_request_id,
    )
