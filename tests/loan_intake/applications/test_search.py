"""The bureau finds applications and firms: by number, USCC, name, status, bank, days."""

import uuid
from datetime import datetime
from typing import Any

import pytest

from shared.clock import SHANGHAI
from tests.conftest import IntakeHarness, Tokens, application_body, make_uscc

pytestmark = pytest.mark.asyncio


async def filed(intake: IntakeHarness, tokens: Tokens, uscc: str, **changes: Any) -> dict:
    body = application_body(uscc, **changes)
    headers = tokens.header(tokens.sme(uscc))
    response = await intake.client.post("/v1/applications", json=body, headers=headers)
    assert response.status_code == 202, response.text
    return response.json()


async def test_applications_are_found_by_number_uscc_name_status_bank_and_day(
    intake: IntakeHarness, tokens: Tokens
) -> None:
    tag = uuid.uuid4().hex[:8]
    a, b = make_uscc(), make_uscc()
    first = await filed(
        intake, tokens, a, enterprise__name=f"上海青浦{tag}精密有限公司", loan__amount="900000.00"
    )
    await filed(intake, tokens, a, enterprise__name=f"上海青浦{tag}精密有限公司")
    other = await filed(
        intake,
        tokens,
        b,
        enterprise__name=f"上海{tag}100%_商贸有限公司",
        loan__preferred_bank=f"青浦{tag}银行",
    )
    await intake.drain()
    bureau = tokens.header(tokens.bureau())

    async def found(**params: Any) -> list[str]:
        response = await intake.client.get("/v1/applications", params=params, headers=bureau)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert await found(q=first["number"]) == [first["id"]]
    assert await found(q=first["number"].lower()) == [first["id"]]
    assert len(await found(q=a[:14])) == 2
    assert len(await found(q=tag)) == 3
    # LIKE's wildcards are plain characters in a search.
    assert await found(q=f"{tag}100%_") == [other["id"]]
    assert await found(q=f"{tag}1_0") == []
    assert await found(bank=f"{tag}银行") == [other["id"]]
    ascending = await found(q=a[:14], sort="amount_asc")
    assert ascending[0] == first["id"]
    day = datetime.fromisoformat(first["created_at"]).astimezone(SHANGHAI).date().isoformat()
    assert len(await found(q=tag, submitted_from=day, submitted_to=day)) == 3
    assert await found(q=tag, submitted_from="2020-01-01", submitted_to="2020-12-31") == []
    assert await found(q=tag, status="withdrawn") == []
    refused = await intake.client.get("/v1/applications", params={"q": "x" * 101}, headers=bureau)
    assert refused.status_code == 422


async def test_a_firm_is_found_and_read_with_contacts_financials_and_applications(
    intake: IntakeHarness, tokens: Tokens
) -> None:
    uscc, tag = make_uscc(), uuid.uuid4().hex[:8]
    await filed(
        intake,
        tokens,
        uscc,
        enterprise__name=f"上海{tag}机械有限公司",
        enterprise__total_liabilities="4500000.00",
        enterprise__flags={"specialized_new": True},
    )
    bureau = tokens.header(tokens.bureau())
    listed = await intake.client.get("/v1/enterprises", params={"q": tag}, headers=bureau)
    [firm] = listed.json()["items"]
    assert (firm["uscc"], firm["applications"], firm["latest_status_label"]) == (
        uscc,
        1,
        "评估中",
    )
    profile = (await intake.client.get(f"/v1/enterprises/{uscc}", headers=bureau)).json()
    assert profile["name"] == f"上海{tag}机械有限公司"
    assert profile["financials"]["debt_ratio"] == "0.5000"  # 4.5 m ÷ 9 m
    assert profile["financials"]["flags_zh"] == ["专精特新中小企业"]
    assert profile["applications"]["total"] == 1
    missing = await intake.client.get(f"/v1/enterprises/{make_uscc()}", headers=bureau)
    assert missing.status_code == 404
    assert missing.json()["type"].endswith("enterprise-not-found")
    sme = tokens.header(tokens.sme(uscc))
    assert (await intake.client.get("/v1/enterprises", headers=sme)).status_code == 403
