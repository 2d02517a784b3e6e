"""One slow or dead bank endpoint delays only its own bank (issue 14, item 2): each bank's
notifications go in a lane of their own, side by side, and a bank that did not answer has
the rest of its queue wait for the next round instead of each waiting out the deadline."""

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.conftest import Databases, Tokens, asgi_client


class Banks(httpx.AsyncBaseTransport):
    """The network to three banks: one answers at once, one after two seconds, one is
    down (its connections refused)."""

    def __init__(self) -> None:
        self.answered: dict[str, list[float]] = {"fast.test": [], "slow.test": []}
        self.refused: list[str] = []

        async def fast(request: Request) -> JSONResponse:
            self.answered["fast.test"].append(time.monotonic())
            return JSONResponse({"ok": True})

        async def slow(request: Request) -> JSONResponse:
            await asyncio.sleep(2.0)
            self.answered["slow.test"].append(time.monotonic())
            return JSONResponse({"ok": True})

        self._apps = {
            "fast.test": httpx.ASGITransport(
                app=Starlette(routes=[Route("/h", fast, methods=["POST"])])
            ),
            "slow.test": httpx.ASGITransport(
                app=Starlette(routes=[Route("/h", slow, methods=["POST"])])
            ),
        }

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        app = self._apps.get(request.url.host)
        if app is None:
            self.refused.append(request.url.host)
            raise httpx.ConnectError("connection refused", request=request)
        return await app.handle_async_request(request)


@pytest.fixture
async def gateway(databases: Databases, keys_dir: Path) -> AsyncIterator[tuple[Any, Banks]]:
    """A gateway of its own (its own database: no other test's notifications in the round)."""
    from services.bank_gateway.config import Settings
    from services.bank_gateway.main import create_app

    banks = Banks()
    app = create_app(
        Settings(
            database_url=databases.new("lanes", migrate="bank_gateway"),
            keys_dir=keys_dir,
            environment="test",
            run_outbox_worker=False,
            run_audit_sealer=False,
        ),
        webhook_transport=banks,
    )
    async with app.router.lifespan_context(app):
        yield app, banks


async def test_a_slow_bank_delays_only_itself_and_a_dead_one_is_tried_once(
    gateway: tuple[Any, Banks], tokens: Tokens
) -> None:
    from services.bank_gateway.banks import service as bank_service
    from services.bank_gateway.models import DeliveryKind
    from services.bank_gateway.notifications import service as outbox

    app, network = gateway
    codes: dict[str, str] = {}
    async with asgi_client(app, "http://gateway") as client:
        for host in ("slow.test", "dead.test", "fast.test"):  # the slow one's rows first
            code = f"l{host[:4]}{time.monotonic_ns() % 10**6}"
            created = await client.post(
                "/v1/banks",
                json={"code": code, "name": f"通道测试{code}", "webhook_url": f"http://{host}/h"},
                headers=tokens.header(tokens.admin()),
            )
            assert created.status_code == 201, created.text
            codes[host] = code
    ids = []
    async with app.state.sessionmaker() as session, session.begin():
        for host in ("slow.test", "dead.test", "fast.test"):
            bank = await bank_service.by_code(session=session, code=codes[host])
            assert bank is not None
            rows = [
                outbox.new_row(
                    kind=DeliveryKind.WEBHOOK,
                    event_type="batch.opened",
                    bank_id=bank.id,
                    payload={"n": n},
                )
                for n in range(3 if host == "dead.test" else 1)
            ]
            ids += [r["id"] for r in rows]
            await outbox.send(session=session, rows=rows)
    started = time.monotonic()
    await app.state.dispatcher.step()
    [fast_at] = network.answered["fast.test"]
    [slow_at] = network.answered["slow.test"]
    assert fast_at - started < 1.0 < slow_at - started  # not behind the slow bank's answer
    # Three notifications, one connection attempt this round.
    assert network.refused.count("dead.test") == 1
    deliveries = sa.table(
        "deliveries", sa.column("id"), sa.column("status"), sa.column("last_error")
    )
    mine = deliveries.c.id.in_(ids)
    async with app.state.sessionmaker() as session:
        found = (await session.execute(sa.select(deliveries).where(mine))).all()
    assert sorted(row.status for row in found) == ["delivered", "delivered"] + ["pending"] * 3
    dead = [row.last_error for row in found if row.status == "pending"]
    assert all("ConnectError" in error for error in dead), dead
