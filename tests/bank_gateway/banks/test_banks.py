import base64
import uuid

import httpx
import pytest

from tests.bank_gateway.conftest import Desk
from tests.conftest import Tokens, asgi_client

pytestmark = pytest.mark.asyncio


async def test_bureau_sees_every_partner_bank(
    gateway_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    response = await gateway_client.get("/v1/banks", headers=tokens.header(tokens.bureau()))
    assert response.status_code == 200
    names = {b["code"]: b["name"] for b in response.json()}
    assert {"bosc": "上海银行", "srcb": "上海农商银行"}.items() <= names.items()


async def test_a_bank_sees_only_itself(gateway_client: httpx.AsyncClient, tokens: Tokens) -> None:
    response = await gateway_client.get("/v1/banks", headers=tokens.header(tokens.bank("srcb")))
    assert [b["code"] for b in response.json()] == ["srcb"]


async def test_an_sme_may_not_list_banks(gateway_client: httpx.AsyncClient, tokens: Tokens) -> None:
    response = await gateway_client.get(
        "/v1/banks", headers=tokens.header(tokens.sme("91310118MA1JL0000N"))
    )
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


# --- registration, credentials, tokens ------------------------------------------------------


async def register(client: httpx.AsyncClient, tokens: Tokens, code: str, **extra: object) -> dict:
    response = await client.post(
        "/v1/banks",
        json={"code": code, "name": f"测试银行{code}", **extra},
        headers=tokens.header(tokens.admin()),
    )
    assert response.status_code == 201, response.text
    assert response.headers["Cache-Control"] == "no-store"
    return response.json()


async def token_for(
    client: httpx.AsyncClient, client_id: str, client_secret: str, *, basic: bool = False
) -> httpx.Response:
    if basic:
        raw = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        return await client.post(
            "/oauth/token",
            content="grant_type=client_credentials",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Authorization": f"Basic {raw}",
            },
        )
    return await client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
        },
    )


async def test_admin_registers_a_bank_and_its_credentials_work_once_shown(
    gateway_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    code = f"b{uuid.uuid4().hex[:8]}"
    created = await register(gateway_client, tokens, code, webhook_url="http://127.0.0.1:9/hooks")
    assert created["client_id"] == f"bank-{code}"
    assert created["signing_secret"].startswith("whsec_")
    assert len(base64.b64decode(created["signing_secret"].removeprefix("whsec_"))) == 32
    assert created["bank"]["signing_secrets_valid"] == 1

    shown = await gateway_client.get(f"/v1/banks/{code}", headers=tokens.header(tokens.admin()))
    assert created["client_secret"] not in shown.text
    assert created["signing_secret"] not in shown.text

    for basic in (False, True):
        response = await token_for(
            gateway_client, created["client_id"], created["client_secret"], basic=basic
        )
        assert response.status_code == 200, response.text
        assert response.headers["Cache-Control"] == "no-store"
        body = response.json()
        assert body["token_type"] == "Bearer" and body["expires_in"] == 900
        assert body["scope"] == f"bank:{code}"
    own = await gateway_client.get(
        f"/v1/banks/{code}", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert own.status_code == 200
    other = await gateway_client.get(
        "/v1/banks/srcb", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert other.status_code == 404
    assert other.json()["type"] == "/problems/bank-not-found"
    listed = await gateway_client.get(
        "/v1/banks", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert [b["code"] for b in listed.json()] == [code]

    again = await gateway_client.post(
        "/v1/banks", json={"code": code, "name": "重复"}, headers=tokens.header(tokens.admin())
    )
    assert again.status_code == 409
    assert again.json()["type"] == "/problems/bank-exists"


async def test_wrong_or_missing_credentials_are_refused_alike(
    gateway_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    created = await register(gateway_client, tokens, f"b{uuid.uuid4().hex[:8]}")
    wrong = await token_for(gateway_client, created["client_id"], "not-the-secret")
    unknown = await token_for(gateway_client, "bank-nobody", created["client_secret"])
    for response in (wrong, unknown):
        assert response.status_code == 401
        problem = response.json()
        assert problem["type"] == "/problems/oauth-invalid-client"
        assert problem["error"] == "invalid_client"
    assert wrong.json()["detail"] == unknown.json()["detail"]

    grant = await gateway_client.post(
        "/oauth/token",
        data={"grant_type": "password", "client_id": "x", "client_secret": "y"},
    )
    assert grant.status_code == 400
    assert grant.json()["error"] == "unsupported_grant_type"
    as_json = await gateway_client.post("/oauth/token", json={"grant_type": "client_credentials"})
    assert as_json.status_code == 400
    assert as_json.json()["error"] == "invalid_request"
    garbled = await gateway_client.post(
        "/oauth/token",
        content="grant_type=client_credentials",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": "Basic !!!",
        },
    )
    assert garbled.status_code == 401


async def test_rotating_the_client_secret_retires_the_old_one(
    gateway_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    code = f"b{uuid.uuid4().hex[:8]}"
    created = await register(gateway_client, tokens, code)
    rotated = await gateway_client.post(
        f"/v1/banks/{code}/client-secret", headers=tokens.header(tokens.admin())
    )
    assert rotated.status_code == 200
    new_secret = rotated.json()["client_secret"]
    assert new_secret != created["client_secret"]
    old = await token_for(gateway_client, created["client_id"], created["client_secret"])
    assert old.status_code == 401
    new = await token_for(gateway_client, created["client_id"], new_secret)
    assert new.status_code == 200


async def test_signing_secret_rotation_keeps_the_old_one_for_the_overlap(
    gateway_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    code = f"b{uuid.uuid4().hex[:8]}"
    created = await register(gateway_client, tokens, code)
    rotated = await gateway_client.post(
        f"/v1/banks/{code}/signing-secrets",
        json={"overlap_hours": 24},
        headers=tokens.header(tokens.admin()),
    )
    assert rotated.status_code == 200
    body = rotated.json()
    assert body["signing_secret"] != created["signing_secret"]
    assert body["bank"]["signing_secrets_valid"] == 2
    immediate = await gateway_client.post(
        f"/v1/banks/{code}/signing-secrets",
        json={"overlap_hours": 0},
        headers=tokens.header(tokens.admin()),
    )
    assert immediate.json()["bank"]["signing_secrets_valid"] == 1


async def test_a_deactivated_bank_cannot_get_tokens(
    gateway_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    code = f"b{uuid.uuid4().hex[:8]}"
    created = await register(gateway_client, tokens, code)
    patched = await gateway_client.patch(
        f"/v1/banks/{code}", json={"active": False}, headers=tokens.header(tokens.admin())
    )
    assert patched.status_code == 200 and patched.json()["active"] is False
    refused = await token_for(gateway_client, created["client_id"], created["client_secret"])
    assert refused.status_code == 401


async def test_only_admins_manage_banks(gateway_client: httpx.AsyncClient, tokens: Tokens) -> None:
    body = {"code": "nope", "name": "不行银行"}
    for token in (tokens.bureau(approver=True), tokens.bank("srcb")):
        response = await gateway_client.post("/v1/banks", json=body, headers=tokens.header(token))
        assert response.status_code == 403
    bad = await gateway_client.post(
        "/v1/banks",
        json={"code": "Bad Code", "name": "x", "webhook_url": "not a url"},
        headers=tokens.header(tokens.admin()),
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"code", "name", "webhook_url"}


async def test_demo_banks_have_development_credentials(gateway_client: httpx.AsyncClient) -> None:
    response = await token_for(gateway_client, "bank-srcb", "dev-secret-srcb")
    assert response.status_code == 200


async def test_guessing_a_client_secret_is_stopped_by_address_without_locking_the_bank_out(
    desk: Desk,
) -> None:
    code = await desk.register_bank()
    client_id, client_secret, _ = desk.credentials[code]

    async def token(client: httpx.AsyncClient, secret: str) -> httpx.Response:
        return await client.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
        )

    for _ in range(5):
        assert (await token(desk.gateway, "guess")).status_code == 401
    # Five wrong secrets from a stranger no longer take the bank's integration down.
    assert (await token(desk.gateway, client_secret)).status_code == 200
    for _ in range(15):
        assert (await token(desk.gateway, "guess")).status_code == 401
    blocked = await token(desk.gateway, client_secret)  # that address waits, whatever it sends
    assert blocked.status_code == 429
    assert blocked.json()["type"] == "/problems/too-many-attempts"
    assert int(blocked.headers["Retry-After"]) > 0
    async with asgi_client(desk.app, "http://gateway") as the_bank:  # another address
        assert (await token(the_bank, client_secret)).status_code == 200
