"""One attempt at one delivery: to a bank's webhook URL, or to one of our own services."""

import asyncio
import json
from collections.abc import Coroutine
from datetime import datetime
from typing import Any

import httpx
from standardwebhooks import Webhook

from services.bank_gateway.banks.webhook_urls import pinned
from services.bank_gateway.models import Delivery
from services.bank_gateway.notifications.outcomes import Backoff, Outcomes, Values
from services.bank_gateway.notifications.service import webhook_id


def signed_request(
    delivery: Delivery, secrets: list[str], now: datetime
) -> tuple[bytes, dict[str, str]]:
    """The body and the Standard Webhooks headers, one signature per valid secret."""
    body = json.dumps(
        {"type": delivery.event_type, "timestamp": now.isoformat(), "data": delivery.payload},
        ensure_ascii=False,
        separators=(",", ":"),
    )
    msg_id = webhook_id(delivery)
    signatures = " ".join(Webhook(secret).sign(msg_id, now, body) for secret in secrets)
    headers = {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signatures,
    }
    return body.encode(), headers


async def post_webhook(
    client: httpx.AsyncClient,
    row: Delivery,
    target: tuple[str | None, list[str]],
    outcomes: Outcomes,
    backoff: Backoff,
    *,
    private_addresses: bool = False,
    deadline_seconds: float = 15.0,
) -> Values:
    """A notification to a bank: ``target`` is its webhook URL and valid signing secrets.

    The URL is checked again, resolved, before each attempt (a name may be pointed inward
    after registration), and the connection made to the address checked; the answer's
    body is never read — only its status counts, so a huge or dripping answer costs
    nothing and nothing from it reaches staff — and the whole attempt has a deadline."""
    url, secrets = target
    if not url:
        return outcomes.retry(row, "该银行没有登记回调地址", None, backoff, window=True)
    if not secrets:
        return outcomes.retry(row, "该银行没有有效的签名密钥", None, backoff, window=True)
    refused, target_address = await pinned(url, allow_private=private_addresses)
    if refused is not None or target_address is None:
        return outcomes.retry(row, f"未发送：{refused}", None, backoff, window=True)
    body, headers = signed_request(row, secrets, outcomes.clock())
    try:
        async with asyncio.timeout(deadline_seconds):
            async with client.stream(
                "POST",
                target_address.url,
                content=body,
                headers={**headers, **target_address.headers},
                extensions=target_address.extensions,
            ) as response:
                status = response.status_code
    except TimeoutError:
        return outcomes.retry(row, "回调地址超时未应答", None, backoff, window=True)
    except httpx.HTTPError as error:
        # The kind of failure, not its text: that would tell which ports are open.
        return outcomes.retry(
            row, f"无法送达（{type(error).__name__}）", None, backoff, window=True
        )
    if 200 <= status < 300:
        return outcomes.delivered(row, status)
    return outcomes.retry(row, f"HTTP {status}", status, backoff, window=True)


async def call_service(
    row: Delivery,
    call: Coroutine[Any, Any, tuple[int, str]],
    outcomes: Outcomes,
    backoff: Backoff,
) -> tuple[Values, str | None]:
    """To one of our own services: retried indefinitely unless it refuses (4xx).
    (the outcome, the answer's body when it was taken)."""
    try:
        status_code, text = await call
    except httpx.HTTPError as error:
        error_text = f"{type(error).__name__}: {error}"
        return outcomes.retry(row, error_text, None, backoff, window=False), None
    if status_code < 300:
        return outcomes.delivered(row, status_code), text
    if status_code >= 500 or status_code in (408, 429):
        error_text = f"HTTP {status_code}: {text[:300]}"
        return outcomes.retry(row, error_text, status_code, backoff, window=False), None
    return outcomes.failed(row, status_code, text, status=status_code), None
