"""Who is counted (issue 14, item 1), through the services' own pages and token endpoint:
strangers cannot lock a clerk or a bank out, a forged X-Forwarded-For buys nothing unless
it comes from a configured proxy, registrations are limited per address."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from tests.bank_gateway.conftest import Desk
from tests.conftest import IntakeHarness, make_uscc
from tests.loan_intake.portal.test_pages import PASSWORD, csrf_of, registered


@asynccontextmanager
async def at(app: Any, address: str, base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A browser at ``address`` (its own cookies)."""
    transport = httpx.ASGITransport(app=app, client=(address, 41000))
    async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
        yield client


async def console_sign_in(
    client: httpx.AsyncClient, username: str, password: str, **headers: str
) -> httpx.Response:
    login = await client.get("/console/login")
    form = {"_csrf": csrf_of(login), "username": username, "password": password}
    return await client.post(
        "/console/login",
        content=urlencode(form),
        headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
    )


async def test_a_stranger_guessing_a_clerks_password_does_not_lock_the_clerk_out(
    desk: Desk,
) -> None:
    async with at(desk.app, "203.0.113.7", "http://gateway") as stranger:
        for _ in range(5):
            wrong = await console_sign_in(stranger, "alice", "guess-123")
            assert wrong.status_code == 401
        stopped = await console_sign_in(stranger, "alice", "dev-password-alice")
        assert stopped.status_code == 429 and "尝试次数过多" in stopped.text
    async with at(desk.app, "198.51.100.23", "http://gateway") as alice:
        signed = await console_sign_in(alice, "ALICE ", "dev-password-alice")
        assert signed.status_code == 303, signed.text


async def test_a_forged_forwarded_address_buys_no_fresh_guesses(desk: Desk) -> None:
    async with at(desk.app, "203.0.113.8", "http://gateway") as guesser:
        for i in range(5):
            await console_sign_in(guesser, "bob", "guess", **{"X-Forwarded-For": f"10.9.0.{i}"})
        stopped = await console_sign_in(
            guesser, "bob", "dev-password-bob", **{"X-Forwarded-For": "10.9.9.9"}
        )
        assert stopped.status_code == 429


async def test_behind_a_configured_proxy_each_client_is_counted_by_its_own_address(
    gateway_db: str, keys_dir: Path
) -> None:
    from services.bank_gateway.config import Settings
    from services.bank_gateway.main import create_app

    settings = Settings(
        database_url=gateway_db,
        keys_dir=keys_dir,
        environment="test",
        run_outbox_worker=False,
        trusted_proxies=["192.0.2.0/24"],
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app), at(app, "192.0.2.10", "http://gw") as proxy:
        for _ in range(5):
            forwarded = {"X-Forwarded-For": "203.0.113.99"}
            assert (await console_sign_in(proxy, "bob", "guess", **forwarded)).status_code == 401
        guesser = {"X-Forwarded-For": "203.0.113.99"}
        assert (await console_sign_in(proxy, "bob", "x", **guesser)).status_code == 429
        bob = {"X-Forwarded-For": "198.51.100.40"}
        assert (await console_sign_in(proxy, "bob", "dev-password-bob", **bob)).status_code == 303


async def test_registrations_are_limited_per_address(intake: IntakeHarness) -> None:
    async with at(intake.app, "203.0.113.77", "http://intake") as someone:
        for _ in range(5):
            assert (await registered(someone, make_uscc())).status_code == 303
        sixth = await registered(someone, make_uscc())
        assert sixth.status_code == 429 and "尝试次数过多" in sixth.text
    async with at(intake.app, "198.51.100.77", "http://intake") as another:
        assert (await registered(another, make_uscc())).status_code == 303
    assert PASSWORD  # the same form the portal tests fill in
