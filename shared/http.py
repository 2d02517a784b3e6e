"""The one way services call each other: a long-lived ``httpx.AsyncClient`` per downstream.

It forwards the current ``X-Request-ID`` (so one id follows a request through all three
services' logs), authenticates with this service's own service token (unless the call is
made on a signed-in person's behalf and carries their token), and has bounded timeouts.
Retries are not done here: a hand-off that must survive lives in an outbox.
"""

import time
from collections.abc import Callable

import httpx
from asgi_correlation_id import correlation_id

from shared.middleware import REQUEST_ID_HEADER

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=3.0)


def make_service_client(
    *,
    base_url: str,
    token: Callable[[], str],
    transport: httpx.AsyncBaseTransport | None = None,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
) -> httpx.AsyncClient:
    async def add_context(request: httpx.Request) -> None:
        request_id = correlation_id.get()
        if request_id:
            request.headers[REQUEST_ID_HEADER] = request_id
        # A call made on a person's behalf carries that person's token; others, ours.
        if "Authorization" not in request.headers:
            request.headers["Authorization"] = f"Bearer {token()}"

    return httpx.AsyncClient(
        base_url=base_url,
        transport=transport,
        timeout=timeout,
        event_hooks={"request": [add_context]},
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
    )


class CachedServiceToken:
    """Re-issue the service token shortly before it expires, not on every call."""

    def __init__(self, issue: Callable[[], str], *, lifetime_seconds: int) -> None:
        self._issue = issue
        self._clock = time.monotonic
        self._refresh_after = max(lifetime_seconds - 60, lifetime_seconds // 2)
        self._token: str | None = None
        self._issued_at = 0.0

    def __call__(self) -> str:
        now = self._clock()
        if self._token is None or now - self._issued_at > self._refresh_after:
            self._token = self._issue()
            self._issued_at = now
        return self._token
