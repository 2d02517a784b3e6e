"""Sessions and tokens that die (issue 14, item 4): signing out revokes the session with
its issuer, deactivating a clerk or a bank ends its sessions at once — on the pages, as a
bearer, and at the services that take the gateway's tokens — and permissions are re-read."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from shared.auth import APPROVE_PERMISSION, Principal, Role
from shared.contracts.sessions import SessionState
from shared.errors import ServiceUnavailable
from shared.sessions import SessionEnded, SessionGuard
from shared.web import SESSION_COOKIE
from tests.bank_gateway.banks.test_banks import token_for
from tests.bank_gateway.conftest import Desk
from tests.conftest import asgi_client, make_uscc
from tests.loan_intake.portal.test_pages import csrf_of, post_form, registered
from tests.security.test_who_is_counted import console_sign_in


@asynccontextmanager
async def clerk(desk: Desk, username: str) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """A browser signed in to the console as ``username``, and its session token."""
    async with asgi_client(desk.app, "http://gateway") as browser:
        signed = await console_sign_in(browser, username, f"dev-password-{username}")
        assert signed.status_code == 303, signed.text
        yield browser, browser.cookies[SESSION_COOKIE]


async def staff_update(desk: Desk, username: str, **changes: bool) -> None:
    response = await desk.gateway.patch(
        f"/v1/staff/{username}", json=changes, headers=desk.tokens.header(desk.tokens.admin())
    )
    assert response.status_code == 200, response.text


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_signing_out_kills_every_copy_of_the_session(desk: Desk, guarantee_app: Any) -> None:
    async with clerk(desk, "alice") as (browser, token):
        assert (await browser.get("/console/batches")).status_code == 200
        renewed = browser.cookies[SESSION_COOKIE]  # each page renews the cookie: same session
        page = await browser.get("/console/batches")
        form = {"_csrf": csrf_of(page)}
        assert (await post_form(browser, "/console/logout", form)).status_code == 303
    async with asgi_client(guarantee_app, "http://guarantee") as guarantee:
        for old in (token, renewed):
            async with asgi_client(desk.app, "http://gateway") as thief:
                thief.cookies.set(SESSION_COOKIE, old)
                page = await thief.get("/console/batches")
                assert page.status_code == 303 and "/console/login" in page.headers["location"]
            api = await desk.gateway.get("/v1/batches", headers=bearer(old))
            assert api.status_code == 401 and api.json()["type"] == "/problems/session-ended"
            elsewhere = await guarantee.get("/v1/policies/in-force", headers=bearer(old))
            assert elsewhere.status_code == 401


async def test_a_deactivated_clerk_stops_at_once_everywhere(desk: Desk, guarantee_app: Any) -> None:
    async with clerk(desk, "bob") as (browser, token):
        async with asgi_client(guarantee_app, "http://guarantee") as guarantee:
            before = await guarantee.get("/v1/policies/in-force", headers=bearer(token))
            assert before.status_code == 200
            await staff_update(desk, "bob", active=False)
            try:
                page = await browser.get("/console/batches")
                assert page.status_code == 303  # to the sign-in page, the session not renewed
                assert SESSION_COOKIE not in page.headers.get("set-cookie", "")
                assert (
                    await desk.gateway.get("/v1/batches", headers=bearer(token))
                ).status_code == 401
                after = await guarantee.get("/v1/policies/in-force", headers=bearer(token))
                assert after.status_code == 401
                intake = await desk.intake.client.get(
                    "/v1/applications?status=referred", headers=bearer(token)
                )
                assert intake.status_code == 401
            finally:
                await staff_update(desk, "bob", active=True)


async def test_a_withdrawn_approver_right_is_gone_on_the_next_request(
    desk: Desk, guarantee_app: Any
) -> None:
    async with clerk(desk, "carol") as (_, token):
        principal = guarantee_app.state.token_verifier.verify(token)
        assert APPROVE_PERMISSION in principal.permissions
        guard: SessionGuard = guarantee_app.state.session_guard
        assert APPROVE_PERMISSION in (await guard.confirm(principal)).permissions
        await staff_update(desk, "carol", approver=False)
        try:
            assert (await guard.confirm(principal)).permissions == frozenset()
        finally:
            await staff_update(desk, "carol", approver=True)


async def test_a_deactivated_banks_token_stops_working(desk: Desk) -> None:
    code = await desk.register_bank()
    client_id, client_secret, _ = desk.credentials[code]
    token = (await token_for(desk.gateway, client_id, client_secret)).json()["access_token"]
    assert (await desk.gateway.get("/v1/batches", headers=bearer(token))).status_code == 200
    off = await desk.gateway.patch(
        f"/v1/banks/{code}", json={"active": False}, headers=desk.tokens.header(desk.tokens.admin())
    )
    assert off.status_code == 200
    assert (await desk.gateway.get("/v1/batches", headers=bearer(token))).status_code == 401
    reconcile = await desk.gateway.post("/v1/bank/reconciliations", json={}, headers=bearer(token))
    assert reconcile.status_code == 401


class Issuer:
    """An issuer that counts the questions it is asked (the guard's unit, not a stand-in
    for the system: the HTTP path is the tests above)."""

    def __init__(self) -> None:
        self.asked = 0
        self.active = True

    async def __call__(self, principal: Principal) -> SessionState:
        self.asked += 1
        return SessionState(active=self.active)


async def test_the_answer_is_cached_for_seconds_and_an_issuer_that_cannot_answer_is_a_503() -> None:
    now = [0.0]
    issuer = Issuer()
    guard = SessionGuard(
        issuer="bank_gateway", local=issuer, issuers={}, cache_seconds=5, clock=lambda: now[0]
    )
    alice = Principal(subject="alice", role=Role.BUREAU, issuer="bank_gateway", session="s1")
    await guard.confirm(alice)
    await guard.confirm(alice)
    assert issuer.asked == 1
    issuer.active = False
    now[0] = 5.1
    with pytest.raises(SessionEnded):
        await guard.confirm(alice)
    assert issuer.asked == 2
    stranger = Principal(subject="x", role=Role.SME, issuer="loan_intake", tenant="t", session="s")
    with pytest.raises(ServiceUnavailable):
        await guard.confirm(stranger)  # no way to ask its issuer: refused, never let through
    service = Principal(subject="guarantee", role=Role.SERVICE, issuer="guarantee")
    assert await guard.confirm(service) is service


async def test_an_sme_signing_out_kills_its_session_too(desk: Desk) -> None:
    async with asgi_client(desk.intake.app, "http://intake") as browser:
        assert (await registered(browser, make_uscc())).status_code == 303
        token = browser.cookies[SESSION_COOKIE]
        assert (
            await desk.intake.client.get("/v1/applications", headers=bearer(token))
        ).status_code == 200
        page = await browser.get("/portal/applications")
        assert (
            await post_form(browser, "/portal/logout", {"_csrf": csrf_of(page)})
        ).status_code == 303
    refused = await desk.intake.client.get("/v1/applications", headers=bearer(token))
    assert refused.status_code == 401
    async with asgi_client(desk.intake.app, "http://intake") as thief:
        thief.cookies.set(SESSION_COOKIE, token)
        assert (await thief.get("/portal/applications")).status_code == 303
