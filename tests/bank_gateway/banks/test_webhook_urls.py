"""A bank's webhook URL is hostile (SSRF): only https and public addresses outside
development, checked at registration and, resolved, before each delivery; what the bank's
server answers never reaches staff beyond its status."""

import asyncio
import ipaddress
import socket

import pytest

from services.bank_gateway.banks.webhook_urls import pinned, resolved_problem, url_problem
from tests.bank_gateway.batches.test_opening import open_batch_with, staff
from tests.bank_gateway.conftest import Desk

INWARD = [
    "https://127.0.0.1:5432/",
    "https://169.254.169.254/latest/meta-data/",
    "https://[::1]/hooks",
    "https://0.0.0.0/",
    "https://2130706433/",  # 127.0.0.1 as an integer
    "https://0x7f.1/",  # … in hex, short form
    "https://10.1.2.3/hooks",
    "https://192.168.1.1/",
    "https://[::ffff:127.0.0.1]/",
    "https://localhost/hooks",
    "https://postgres.internal/",
]


@pytest.mark.parametrize("url", INWARD)
def test_inward_addresses_are_refused(url: str) -> None:
    assert url_problem(url, allow_private=False) is not None
    assert url_problem(url, allow_private=True) is None  # make run and the tests


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://bank.example.com/hooks", "https"),
        ("https://user:secret@bank.example.com/hooks", "用户名或密码"),
        ("ftp://bank.example.com/", "https"),
    ],
)
def test_plain_http_and_credentials_are_refused(url: str, why: str) -> None:
    problem = url_problem(url, allow_private=False)
    assert problem is not None and why in problem


async def test_a_name_that_resolves_inward_is_refused_before_any_connection() -> None:
    """This machine's own name is a real DNS name (not spelled like an address or
    "localhost") that its resolver points at loopback or a private address."""
    name = socket.gethostname()
    resolved = {info[4][0] for info in socket.getaddrinfo(name, 443)}
    if not any(
        ipaddress.ip_address(a).is_loopback or ipaddress.ip_address(a).is_private for a in resolved
    ):
        pytest.skip(f"{name} resolves to a public address here")
    url = f"https://{name}/hooks"
    assert url_problem(url, allow_private=False) is None
    problem = await resolved_problem(url, allow_private=False)
    assert problem is not None and "解析到内网" in problem
    assert await resolved_problem(url, allow_private=True) is None


async def test_the_connection_goes_to_the_address_checked_not_to_a_second_lookup(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """DNS rebinding: a name that answers a public address to the check and 127.0.0.1 to
    the connection. The request is made to the checked address, the name kept for the
    Host header and TLS — so no second answer is ever asked for."""
    answers = iter(["8.8.4.4", "127.0.0.1", "127.0.0.1"])
    loop = asyncio.get_running_loop()

    async def rebinding(host: str, port: int, **_: object) -> list[tuple[object, ...]]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    monkeypatch.setattr(loop, "getaddrinfo", rebinding)
    problem, target = await pinned("https://hooks.bank.example:8443/in?x=1", allow_private=False)
    assert problem is None and target is not None
    assert target.url == "https://8.8.4.4:8443/in?x=1"
    assert target.headers == {"Host": "hooks.bank.example:8443"}
    assert target.extensions == {"sni_hostname": "hooks.bank.example"}
    problem, target = await pinned("https://hooks.bank.example/in", allow_private=False)
    assert target is None and problem is not None and "解析到内网" in problem


async def test_registration_refuses_an_inward_url_outside_development(desk: Desk) -> None:
    settings = desk.app.state.settings
    settings.webhook_private_addresses = False
    try:
        for url in ("https://169.254.169.254/latest", "http://bank.example.com/hooks"):
            answer = await desk.gateway.post(
                "/v1/banks",
                json={"code": "ssrf", "name": "内网银行", "webhook_url": url},
                headers=desk.tokens.header(desk.tokens.admin()),
            )
            assert answer.status_code == 422, answer.text
            assert answer.json()["errors"][0]["field"] == "webhook_url"
        changed = await desk.gateway.patch(
            "/v1/banks/srcb",
            json={"webhook_url": "https://[::1]:8001/"},
            headers=desk.tokens.header(desk.tokens.admin()),
        )
        assert changed.status_code == 422, changed.text
    finally:
        settings.webhook_private_addresses = None


async def test_staff_see_a_failed_deliverys_status_never_its_body(desk: Desk) -> None:
    code = await desk.register_bank()
    desk.bank.fail_next = 1  # answers 503 with a body of its own
    await open_batch_with(desk, code, await desk.eligible_applications(1))
    await desk.deliver(rounds=1)
    listing = await desk.gateway.get(
        f"/v1/deliveries?bank={code}&status=pending", headers=staff(desk, "bob")
    )
    [failed] = listing.json()["items"]
    assert failed["last_error"] == "HTTP 503"
    await desk.deliver()  # the retry goes through: nothing left for the next test's bank
    done = await desk.gateway.get(
        f"/v1/deliveries?bank={code}&status=pending", headers=staff(desk, "bob")
    )
    assert done.json()["items"] == []
