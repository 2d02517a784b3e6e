"""The request pipeline: one pure-ASGI middleware (never ``BaseHTTPMiddleware``: it breaks
context variables), because every layer of a chain costs every request (bench/README.md).

:class:`RequestPipeline`, in order, for each HTTP request:

- takes the caller's ``X-Request-ID`` when it is safe to log, else makes one; sets it in the
  context variable every log line and outgoing call reads (asgi-correlation-id's, which the
  outbox workers restore too) and returns it on the response;
- refuses a body under ``/v1`` that is not JSON (415) and a body over the size limit (413;
  a document upload has a larger one);
- after the answer, writes one access-log line and counts the request for Prometheus
  (``http_requests_total``, ``http_request_duration_seconds``, by route template).
"""

import re
import time
import uuid

import structlog
from asgi_correlation_id import correlation_id
from fastapi import FastAPI
from prometheus_client import Counter, Histogram
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import AppError, PayloadTooLarge, UnsupportedMediaType, problem_response

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID = REQUEST_ID_HEADER.lower().encode()
_REQUEST_ID_SHAPE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# Probes and the scraper: neither logged nor counted.
_QUIET = frozenset({"/healthz", "/readyz", "/metrics"})

log = structlog.get_logger("http")

REQUESTS = Counter(
    "http_requests_total",
    "Requests answered, by route template, method and status class",
    ["handler", "method", "status"],
)
LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to answer, by route template and method",
    ["handler", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


def _acceptable_request_id(value: str) -> bool:
    # Any id another system gives us is kept (so it can be followed), but never
    # something that could forge log lines.
    return bool(_REQUEST_ID_SHAPE.match(value))


# Uploads — a file as the body (documents, claim papers, a reference list) or a form
# carrying one (the portal's papers and certificates, the console's list file): not JSON,
# and may be larger than a JSON document; every other write stays under the small limit.
UPLOAD_PATH = re.compile(
    r"^/(v1|portal)/[^?]+/(claim-)?documents$|^/(v1|console)/reference-lists/files$"
    r"|^/portal/applications/[^/?]+/fact-reviews$"
)


def is_upload(scope: Scope) -> bool:
    return scope["method"] == "POST" and bool(UPLOAD_PATH.match(scope["path"]))


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


class RequestPipeline:
    def __init__(self, app: ASGIApp, *, max_bytes: int, max_upload_bytes: int = 0) -> None:
        self.app = app
        self.json_max_bytes = max_bytes
        self.upload_max_bytes = max(max_upload_bytes, max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = dict(scope["headers"])
        given = headers.get(_REQUEST_ID, b"").decode("latin-1")
        request_id = given if given and _acceptable_request_id(given) else uuid.uuid4().hex
        token = correlation_id.set(request_id)
        structlog.contextvars.clear_contextvars()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (_REQUEST_ID, request_id.encode())]
            await send(message)

        try:
            refusal = self._refusal(scope, headers)
            if refusal is not None:
                await problem_response(refusal, instance=scope["path"])(
                    scope, receive, send_with_id
                )
            else:
                await self.app(scope, self._counting(scope, receive), send_with_id)
        finally:
            self._record(scope, status, time.perf_counter() - started)
            correlation_id.reset(token)

    def _limit(self, scope: Scope) -> int:
        return self.upload_max_bytes if is_upload(scope) else self.json_max_bytes

    def _refusal(self, scope: Scope, headers: dict[bytes, bytes]) -> AppError | None:
        """413 for a body that says it is over the limit; 415 for a write to the JSON API
        that is not JSON (not a 422). None: go on."""
        declared = headers.get(b"content-length")
        limit = self._limit(scope)
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return _too_large(limit)
        if (
            scope["method"] in ("POST", "PUT", "PATCH")
            and scope["path"].startswith("/v1/")
            and not is_upload(scope)  # a document's own type is checked by its route
        ):
            has_body = headers.get(b"content-length", b"0") != b"0" or (
                b"transfer-encoding" in headers
            )
            content_type = headers.get(b"content-type", b"").decode("latin-1")
            if has_body and not _is_json(content_type):
                return UnsupportedMediaType(
                    detail=(
                        f"请求体必须是 JSON (Content-Type: application/json)，收到 "
                        f"'{content_type or '无'}'"
                    )
                )
        return None

    def _counting(self, scope: Scope, receive: Receive) -> Receive:
        limit = self._limit(scope)
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
                    raise HTTPException(413, detail=_too_large(limit).detail)
            return message

        return counting_receive

    @staticmethod
    def _record(scope: Scope, status: int, seconds: float) -> None:
        path = scope.get("path", "")
        if path in _QUIET:
            return
        method = scope.get("method", "")
        log.info(
            "http.request",
            method=method,
            path=path,
            status=status,
            duration_ms=round(seconds * 1000, 2),
        )
        # The route's template, never the path itself: ids would make a series per loan.
        route = scope.get("route")
        handler = getattr(route, "path", None) or "none"
        REQUESTS.labels(handler, method, f"{status // 100}xx").inc()
        LATENCY.labels(handler, method).observe(seconds)


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(detail=f"请求体超过 {limit} 字节上限 (body over {limit} bytes)")


def install_middleware(app: FastAPI, *, max_body_bytes: int, max_upload_bytes: int = 0) -> None:
    """The request pipeline, outermost but for the proxy-headers one (shared/app.py), so even a
    413 carries a request id and is logged and counted."""
    app.add_middleware(RequestPipeline, max_bytes=max_body_bytes, max_upload_bytes=max_upload_bytes)
