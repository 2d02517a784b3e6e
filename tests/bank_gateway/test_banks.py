import httpx
import pytest

from tests.conftest import Tokens

pytestmark = pytest.mark.asyncio


async def test_bureau_sees_every_partner_bank(
    gateway_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    response = await gateway_client.get("/v1/banks", headers=tokens.header(tokens.bureau()))
    assert response.status_code == 200
    assert {b["code"]: b["name"] for b in response.json()} == {
        "bosc": "上海银行",
        "srcb": "上海农商银行",
    }


async def test_a_bank_sees_only_itself(gateway_client: httpx.AsyncClient, tokens: Tokens) -> None:
    response = await gateway_client.get("/v1/banks", headers=tokens.header(tokens.bank("srcb")))
    assert [b["code"] for b in response.json()] == ["srcb"]


async def test_an_sme_may_not_list_banks(gateway_client: httpx.AsyncClient, tokens: Tokens) -> None:
    response = await gateway_client.get(
        "/v1/banks", headers=tokens.header(tokens.sme("91310118MA1JL0000N"))
    )
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
