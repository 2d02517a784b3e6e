import uuid
from datetime import date
from typing import Any

import httpx
import pytest

from tests.conftest import Tokens
from tests.guarantee.factories import make_request

pytestmark = pytest.mark.asyncio


def assessment_request(**loan: Any) -> dict[str, Any]:
    changes = {f"loan__{name}": value for name, value in loan.items()}
    return make_request(**changes).model_dump(mode="json")


async def test_assess_once_then_same_answer(
    guarantee_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    headers = tokens.header(tokens.service("loan_intake"))
    body = assessment_request()
    first = await guarantee_client.post("/v1/assessments", json=body, headers=headers)
    assert first.status_code == 201
    again = await guarantee_client.post("/v1/assessments", json=body, headers=headers)
    assert again.status_code == 200
    assert again.json() == first.json()

    changed = {**body, "loan": {**body["loan"], "amount": "3000000.00"}}
    conflict = await guarantee_client.post("/v1/assessments", json=changed, headers=headers)
    assert conflict.status_code == 409
    assert conflict.json()["type"] == "/problems/assessment-conflict"


async def test_assessment_keeps_snapshot_policy_hash_and_trace(
    guarantee_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    body = assessment_request()
    created = await guarantee_client.post(
        "/v1/assessments", json=body, headers=tokens.header(tokens.service("loan_intake"))
    )
    stored = await guarantee_client.get(
        f"/v1/assessments/{created.json()['assessment_id']}",
        headers=tokens.header(tokens.bureau()),
    )
    assert stored.status_code == 200
    data = stored.json()
    assert data["as_of"] == "2026-11-25"
    assert len(data["policy_hash"]) == 64
    assert data["trace"]["rules"][0]["code"] == "registered_in_district"
    assert data["trace"]["fields"]["years_operating"] == "8"
    assert data["terms"]["guarantee_fee"] == "10138.89"  # 2,000,000 × 0.5 % × 365 / 360

    replay = await guarantee_client.get(
        f"/v1/assessments/{data['id']}/replay", headers=tokens.header(tokens.bureau())
    )
    assert replay.status_code == 200
    assert replay.json()["identical"] is True
    assert replay.json()["differences"] == []


async def test_batch_gives_each_item_its_own_outcome(
    guarantee_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    headers = tokens.header(tokens.service("loan_intake"))
    good = assessment_request()
    already = assessment_request()
    await guarantee_client.post("/v1/assessments", json=already, headers=headers)
    clash = {**already, "loan": {**already["loan"], "term_months": 24}}
    too_early = {**assessment_request(), "as_of": "2020-06-01"}  # before any policy
    response = await guarantee_client.post(
        "/v1/assessments/batch",
        json={"items": [{"request": r} for r in (good, clash, too_early)]},
        headers=headers,
    )
    assert response.status_code == 200
    outcomes = response.json()["outcomes"]
    assert outcomes[0]["result"]["decision"] == "eligible"
    assert outcomes[1]["problem"]["type"] == "/problems/assessment-conflict"
    assert outcomes[2]["problem"]["type"] == "/problems/no-policy-in-force"
    assert outcomes[2]["problem"]["status"] == 503


async def test_single_assessment_without_policy_is_503(
    guarantee_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    body = {**assessment_request(), "as_of": "2019-01-01"}
    response = await guarantee_client.post(
        "/v1/assessments", json=body, headers=tokens.header(tokens.service("loan_intake"))
    )
    assert response.status_code == 503
    assert response.json()["type"] == "/problems/no-policy-in-force"


@pytest.mark.parametrize("who", ["sme", "bank", "none"])
async def test_only_services_and_staff_assess(
    guarantee_client: httpx.AsyncClient, tokens: Tokens, who: str
) -> None:
    headers = {
        "sme": tokens.header(tokens.sme("91310118MA1JL0000N")),
        "bank": tokens.header(tokens.bank("srcb")),
        "none": {},
    }[who]
    response = await guarantee_client.post(
        "/v1/assessments", json=assessment_request(), headers=headers
    )
    assert response.status_code == (401 if who == "none" else 403)


async def test_batch_is_for_services_only(
    guarantee_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    response = await guarantee_client.post(
        "/v1/assessments/batch",
        json={"items": [{"request": assessment_request()}]},
        headers=tokens.header(tokens.bureau()),
    )
    assert response.status_code == 403


async def test_policy_in_force(guarantee_client: httpx.AsyncClient, tokens: Tokens) -> None:
    headers = tokens.header(tokens.bureau())
    today = await guarantee_client.get("/v1/policies/in-force", headers=headers)
    assert today.status_code == 200
    assert today.json()["name"] == "青浦区批次贷"
    assert today.json()["document"]["terms"]["default"]["annual_fee_rate"] == "0.0050"
    assert today.json()["in_force"] is True
    before = await guarantee_client.get("/v1/policies/in-force?on=2019-12-31", headers=headers)
    assert before.status_code == 503
    listing = await guarantee_client.get("/v1/policies?status=approved", headers=headers)
    shipped = listing.json()["items"][-1]
    assert shipped["version"] == 1
    assert shipped["status_zh"] == "已批准"
    assert date.fromisoformat(shipped["effective_from"]) == date(2021, 1, 1)


async def test_unknown_assessment_is_404(
    guarantee_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    response = await guarantee_client.get(
        f"/v1/assessments/{uuid.uuid4()}", headers=tokens.header(tokens.bureau())
    )
    assert response.status_code == 404
    assert response.json()["type"] == "/problems/assessment-not-found"
