"""Two replicas of the bank gateway, each with its procrastinate worker, deliver one outbox:
every notification reaches the bank exactly once, and both replicas did some of the work."""

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.bank_receiver import BankInbox, create_receiver
from tests.conftest import Databases, Tokens, asgi_client, is_postgres

pytestmark = pytest.mark.skipif(
    not is_postgres(), reason="background work runs on procrastinate only on PostgreSQL"
)

NOTIFICATIONS = 600


class Counting(httpx.AsyncBaseTransport):
    """One replica's way out to the bank: how many notifications it sent."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner, self.sent = inner, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        return await self.inner.handle_async_request(request)


async def test_two_workers_never_deliver_the_same_notification_twice(
    databases: Databases, keys_dir: Path, tokens: Tokens
) -> None:
    from services.bank_gateway.banks import service as banks
    from services.bank_gateway.config import Settings
    from services.bank_gateway.main import create_app
    from services.bank_gateway.models import DeliveryKind, DeliveryStatus
    from services.bank_gateway.notifications import service as outbox

    url = databases.new("gateway_replicas", migrate="bank_gateway")
    inbox = BankInbox()
    receiver = create_receiver(inbox)
    exits = [Counting(httpx.ASGITransport(app=receiver)) for _ in range(2)]
    replicas = [
        create_app(
            Settings(
                database_url=url,
                keys_dir=keys_dir,
                environment="test",
                run_outbox_worker=True,
                run_audit_sealer=False,
            ),
            webhook_transport=exit_,
        )
        for exit_ in exits
    ]
    first, second = replicas
    async with first.router.lifespan_context(first), second.router.lifespan_context(second):
        async with asgi_client(first, "http://gateway") as client:
            created = await client.post(
                "/v1/banks",
                json={"code": "twin", "name": "双副本测试银行", "webhook_url": "http://bank/hooks"},
                headers=tokens.header(tokens.admin()),
            )
        assert created.status_code == 201, created.text
        inbox.secret = created.json()["signing_secret"]
        async with first.state.sessionmaker() as session, session.begin():
            bank = await banks.by_code(session=session, code="twin")
            assert bank is not None
            await outbox.send(
                session=session,
                rows=[
                    outbox.new_row(
                        kind=DeliveryKind.WEBHOOK,
                        event_type="batch.opened",
                        bank_id=bank.id,
                        payload={"type": "batch.opened", "data": {"n": n}},
                    )
                    for n in range(NOTIFICATIONS)
                ],
            )
        for replica in replicas:
            replica.state.dispatcher.wake()

        async def delivered() -> int:
            async with first.state.sessionmaker() as session:
                return int(
                    await session.scalar(
                        sa.text("SELECT count(*) FROM deliveries WHERE status = :s"),
                        {"s": DeliveryStatus.DELIVERED.value},
                    )
                    or 0
                )

        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if await delivered() == NOTIFICATIONS:
                break
            await asyncio.sleep(0.2)
        assert await delivered() == NOTIFICATIONS

    sent_once: dict[str, Any] = inbox.deliveries
    assert len(sent_once) == NOTIFICATIONS
    twice = {msg_id: n for msg_id, n in sent_once.items() if n != 1}
    assert twice == {}, "a notification reached the bank more than once"
    assert sum(e.sent for e in exits) == NOTIFICATIONS
    assert all(e.sent > 0 for e in exits), [e.sent for e in exits]
