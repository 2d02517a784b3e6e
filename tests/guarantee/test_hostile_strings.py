"""Strings PostgreSQL cannot store (NUL) or a query should never see (not a USCC) are
refused as bad input (422), never a 500 — found by the API fuzzer on PostgreSQL."""

from typing import Any

from tests.conftest import Tokens, asgi_client
from tests.guarantee.factories import make_request


async def test_control_characters_and_malformed_usccs_are_bad_input(
    guarantee_app: Any, tokens: Tokens
) -> None:
    intake = tokens.header(tokens.service("loan_intake"))
    body = make_request().model_dump(mode="json")
    async with asgi_client(guarantee_app, "http://guarantee") as fund:
        for field, value in (("name", "测试\x00企业"), ("uscc", "\x00T(+"), ("uscc", "x" * 18)):
            bad = {**body, "enterprise": {**body["enterprise"], field: value}}
            answer = await fund.post("/v1/assessments", json=bad, headers=intake)
            assert answer.status_code == 422, answer.text
            [error] = answer.json()["errors"]
            assert error["field"] == f"enterprise.{field}"
            if field == "name":
                assert error["message"] == "不能包含控制字符"
        firms = await fund.post(
            "/v1/guarantees/exposure/firms",
            json={"usccs": ["91310118MA1JL0000X", "\x00"]},
            headers=tokens.header(tokens.bureau()),
        )
        assert firms.status_code == 422, firms.text
