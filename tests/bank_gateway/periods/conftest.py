"""A desk whose gateway has a ledger of its own: fiscal periods are the whole programme's,
so a test that closes them must not share its ledger with the rest of the suite."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.bank_gateway.conftest import Desk, gateway_settings
from tests.bank_receiver import BankInbox, create_receiver
from tests.conftest import (
    Databases,
    IntakeHarness,
    Tokens,
    asgi_client,
    fund_settings,
    off_loop,
)


class LateBound:
    """An ASGI app standing for one built after it (the fund and the gateway call each other)."""

    app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


@pytest.fixture
async def own_desk(
    databases: Databases,
    keys_dir: Path,
    tokens: Tokens,
    intake: IntakeHarness,
    guarantee_db: str,
) -> AsyncIterator[Desk]:
    from services.bank_gateway.demo import seed
    from services.bank_gateway.main import create_app
    from services.guarantee.main import create_app as create_fund

    url = databases.new(f"gateway_{uuid.uuid4().hex[:8]}", migrate="bank_gateway")
    settings = gateway_settings(url, keys_dir)
    off_loop(asyncio.run, seed(settings))
    late = LateBound()
    fund = create_fund(
        fund_settings(guarantee_db, keys_dir), gateway_transport=httpx.ASGITransport(app=late)
    )
    inbox = BankInbox()
    app = create_app(
        settings,
        intake_transport=httpx.ASGITransport(app=intake.app),
        webhook_transport=httpx.ASGITransport(app=create_receiver(inbox)),
        guarantee_transport=httpx.ASGITransport(app=fund),
    )
    late.app = app
    async with fund.router.lifespan_context(fund), app.router.lifespan_context(app):
        async with asgi_client(fund, "http://guarantee") as guarantee:
            in_force = await guarantee.get(
                "/v1/policies/in-force", headers=tokens.header(tokens.bureau())
            )
        async with asgi_client(app, "http://gateway") as client:
            yield Desk(
                intake,
                client,
                tokens,
                app,
                inbox,
                policy_version_id=in_force.json()["id"],
                guarantee_app=fund,
            )
