"""Enterprise identity (issue 14, item 5): whoever registers a firm's code first no longer
owns the firm. Registration tells nobody whether a firm is known; an account sees only what
it submitted itself until the city's identity platform (OpenID Connect, code + PKCE, a
signed ID token) says the person signs in for that firm."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from deploy.dev_identity import Provider, create_provider
from tests.conftest import (
    IntakeHarness,
    SwitchableTransport,
    Tokens,
    application_body,
    asgi_client,
    intake_settings,
    make_uscc,
)
from tests.loan_intake.portal.test_pages import registered

ISSUER = "http://idp.test"
CALLBACK = "http://intake/portal/verify/callback"


@dataclass
class Portal:
    intake: IntakeHarness
    provider: Provider
    idp: httpx.AsyncClient


@pytest.fixture
async def portal(
    intake_db: str, keys_dir: Path, guarantee_app: Any, session_issuer: Any
) -> AsyncIterator[Portal]:
    from services.loan_intake.main import create_app

    provider = Provider(
        issuer=ISSUER, client_id="picidai", client_secret="idp-secret", redirect_uri=CALLBACK
    )
    idp_app = create_provider(provider)
    link = SwitchableTransport(httpx.ASGITransport(app=guarantee_app))
    settings = intake_settings(
        intake_db,
        keys_dir,
        oidc_issuer=ISSUER,
        oidc_client_id="picidai",
        oidc_client_secret="idp-secret",
        session_cache_seconds=5.0,  # as deployed: verification must not wait for it
    )
    app = create_app(
        settings,
        guarantee_transport=link,
        gateway_transport=httpx.ASGITransport(app=session_issuer),
        oidc_transport=httpx.ASGITransport(app=idp_app),
    )
    async with (
        app.router.lifespan_context(app),
        asgi_client(app, "http://intake") as client,
        asgi_client(idp_app, ISSUER) as idp,
    ):
        yield Portal(IntakeHarness(app, client, link), provider, idp)


async def api_submission(portal: Portal, tokens: Tokens, uscc: str) -> str:
    """The firm's application submitted by API (as a bank's or an agent's system would)."""
    response = await portal.intake.client.post(
        "/v1/applications",
        json=application_body(uscc),
        headers=tokens.header(tokens.sme(uscc)),
    )
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


async def verify(portal: Portal, browser: httpx.AsyncClient) -> httpx.Response:
    """The person clicks 通过一网通办核验, signs in at the platform, and comes back."""
    start = await browser.get("/portal/verify")
    assert start.status_code == 303, start.text
    at_platform = await portal.idp.get(start.headers["location"])
    if at_platform.status_code != 302:
        return at_platform
    back = at_platform.headers["location"]
    assert back.startswith(CALLBACK)
    return await browser.get(back.removeprefix("http://intake"))


async def test_a_stranger_who_registers_a_firm_sees_nothing_of_it_until_verified(
    portal: Portal, tokens: Tokens
) -> None:
    uscc = make_uscc()
    firm_application = await api_submission(portal, tokens, uscc)
    async with (
        asgi_client(portal.intake.app, "http://intake") as first,
        asgi_client(portal.intake.app, "http://intake") as second,
    ):
        assert (await registered(first, uscc)).status_code == 303
        again = await registered(second, uscc)  # another person, same firm
        assert again.status_code == 303 and "已注册" not in again.text
        page = await first.get("/portal/applications")
        assert "尚未核验" in page.text and firm_application not in page.text
        assert (await first.get(f"/portal/applications/{firm_application}")).status_code == 404
        token = first.cookies["picidai_session"]
        api = await portal.intake.client.get(
            "/v1/applications", headers={"Authorization": f"Bearer {token}"}
        )
        assert api.json()["total"] == 0

        portal.provider.user = {"sub": "legal-rep-1", "uscc": uscc, "name": "法定代表人"}
        done = await verify(portal, first)
        assert done.status_code == 303 and done.headers["location"].endswith("verify=done")
        page = await first.get("/portal/applications?verify=done")
        assert "已通过一网通办核验" in page.text and firm_application in page.text
        assert "尚未核验" not in page.text
        seen = await portal.intake.client.get(
            "/v1/applications", headers={"Authorization": f"Bearer {token}"}
        )
        assert seen.json()["total"] == 1  # the same cookie: permissions are read again
        # The other person's account is still unverified.
        assert firm_application not in (await second.get("/portal/applications")).text


async def test_the_platform_vouching_for_another_firm_verifies_nothing(portal: Portal) -> None:
    uscc = make_uscc()
    async with asgi_client(portal.intake.app, "http://intake") as browser:
        await registered(browser, uscc)
        portal.provider.user = {"sub": "someone", "uscc": make_uscc()}
        mismatch = await verify(portal, browser)
        assert mismatch.headers["location"].endswith("verify=mismatch")
        page = await browser.get("/portal/applications?verify=mismatch")
        assert "不一致" in page.text and "尚未核验" in page.text


async def test_a_forged_id_token_or_a_tampered_return_verifies_nothing(portal: Portal) -> None:
    uscc = make_uscc()
    async with asgi_client(portal.intake.app, "http://intake") as browser:
        await registered(browser, uscc)
        portal.provider.user = {"sub": "x", "uscc": uscc}
        portal.provider.forge = True  # signed with a key the platform does not publish
        forged = await verify(portal, browser)
        assert forged.headers["location"].endswith("verify=failed")
        portal.provider.forge = False

        start = await browser.get("/portal/verify")
        back = (await portal.idp.get(start.headers["location"])).headers["location"]
        tampered = back.replace("state=", "state=x")
        assert (
            (await browser.get(tampered.removeprefix("http://intake")))
            .headers["location"]
            .endswith("verify=cancelled")
        )
        # A return this browser did not start (an attacker's code, sent to the victim).
        async with asgi_client(portal.intake.app, "http://intake") as victim:
            await registered(victim, make_uscc())
            planted = await victim.get(back.removeprefix("http://intake"))
            assert planted.headers["location"].endswith("verify=expired")
        assert "尚未核验" in (await browser.get("/portal/applications")).text
    assert portal.provider.refused == []  # the RP sent PKCE, client and redirect as required
