"""A partner bank's webhook endpoint, as a bank would write it with the reference library.

Verifies every notification with ``standardwebhooks`` (signature over the raw body,
±5 minutes), refuses forged ones with 401, remembers ``webhook-id``s so a redelivery is
acknowledged without being processed twice, and can be told to fail the next N calls.
"""

from dataclasses import dataclass, field
from typing import Any

from standardwebhooks import Webhook
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


@dataclass
class BankInbox:
    secret: str = ""
    fail_next: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)
    seen_ids: set[str] = field(default_factory=set)
    refused: int = 0
    calls: int = 0
    # How many times each notification arrived (a redelivery counts again) and what it was.
    deliveries: dict[str, int] = field(default_factory=dict)
    by_id: dict[str, dict[str, Any]] = field(default_factory=dict)

    def of_type(self, event_type: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == event_type]


def create_receiver(inbox: BankInbox) -> Starlette:
    async def hooks(request: Request) -> JSONResponse:
        inbox.calls += 1
        body = await request.body()
        try:
            event = Webhook(inbox.secret).verify(body, dict(request.headers))
        except Exception:
            inbox.refused += 1
            return JSONResponse({"error": "invalid signature"}, status_code=401)
        if inbox.fail_next > 0:
            inbox.fail_next -= 1
            return JSONResponse({"error": "temporarily unavailable"}, status_code=503)
        msg_id = request.headers["webhook-id"]
        inbox.deliveries[msg_id] = inbox.deliveries.get(msg_id, 0) + 1
        inbox.by_id.setdefault(msg_id, event)
        if msg_id not in inbox.seen_ids:
            inbox.seen_ids.add(msg_id)
            inbox.events.append(event)
        return JSONResponse({"ok": True})

    return Starlette(routes=[Route("/hooks", hooks, methods=["POST"])])


def create_standalone(inbox: BankInbox) -> Starlette:
    """The receiver plus ``GET /events``, for running it as a process of its own."""
    app = create_receiver(inbox)

    async def events(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "events": inbox.events,
                "refused": inbox.refused,
                "calls": inbox.calls,
                "deliveries": inbox.deliveries,
                "by_id": inbox.by_id,
            }
        )

    app.router.routes.append(Route("/events", events, methods=["GET"]))
    return app


if __name__ == "__main__":  # python -m tests.bank_receiver PORT  (secret in BANK_SIGNING_SECRET)
    import os
    import sys

    import uvicorn

    inbox = BankInbox(secret=os.environ["BANK_SIGNING_SECRET"])
    uvicorn.run(
        create_standalone(inbox), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning"
    )
