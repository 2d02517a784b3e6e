"""What-if: a draft replayed over a period's stored assessments, as a job with progress."""

import copy
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx

from services.guarantee.policies.fees import add_months, guarantee_fee
from services.guarantee.whatif import repository as repo
from services.guarantee.whatif.worker import WhatIfRunner
from shared.clock import utcnow
from shared.money import round_to_fen
from tests.conftest import Tokens
from tests.guarantee.conftest import Bureau
from tests.guarantee.factories import make_request

PERIOD_START = date(2025, 3, 1)


async def assess(client: httpx.AsyncClient, tokens: Tokens, requests: list[Any]) -> None:
    response = await client.post(
        "/v1/assessments/batch",
        json={"items": [{"request": r.model_dump(mode="json")} for r in requests]},
        headers=tokens.header(tokens.service("loan_intake")),
    )
    assert response.status_code == 200
    assert all(o["result"] for o in response.json()["outcomes"])


async def draft_with_cap(
    client: httpx.AsyncClient, bureau: Bureau, cap: str, *, new_rule: bool = False
) -> str:
    current = (await client.get("/v1/policies/in-force?on=2025-03-01", headers=bureau.alice)).json()
    draft = await client.post(
        "/v1/policies", json={"from_version_id": current["id"]}, headers=bureau.alice
    )
    document = copy.deepcopy(draft.json()["document"])
    document["terms"]["default"]["max_amount"] = cap
    if new_rule:  # passes for every application here: must not show as a difference
        document["rules"].append(
            {
                "code": "no_tiny_loans",
                "when": "amount >= 100000",
                "message_zh": "申请金额须不低于 10 万元",
                "message_en": "at least 100,000",
            }
        )
    edited = await client.put(
        f"/v1/policies/{draft.json()['id']}/document",
        json={"document": document},
        headers=bureau.alice,
    )
    assert edited.status_code == 200
    return draft.json()["id"]


async def test_lowering_the_cap_shows_what_changes(
    policy_client: httpx.AsyncClient, policy_app: Any, tokens: Tokens, bureau: Bureau
) -> None:
    # 40 applications of ¥250k × i on days of March 2025; revenue high enough for no penalty.
    requests = [
        make_request(
            as_of=(PERIOD_START + timedelta(days=i % 20)).isoformat(),
            loan__amount=str(250_000 * i),
            enterprise__annual_revenue="100000000.00",
        )
        for i in range(1, 41)
    ]
    await assess(policy_client, tokens, requests)
    draft_id = await draft_with_cap(policy_client, bureau, "5000000.00", new_rule=True)

    asked = await policy_client.post(
        f"/v1/policies/{draft_id}/whatif",
        json={"period_from": "2025-03-01", "period_to": "2025-03-31"},
        headers=bureau.bob,
    )
    assert asked.status_code == 202, asked.text
    job = asked.json()
    assert asked.headers["Location"] == f"/v1/whatif/{job['id']}"
    assert (job["status"], job["percent"], job["status_zh"]) == ("queued", 0, "排队中")

    # As deployed: chunks assessed in a worker process while the next chunk is read.
    runner = WhatIfRunner(sessionmaker=policy_app.state.sessionmaker, chunk_size=7, processes=1)
    try:
        assert await runner.run_once() is True
    finally:
        runner.close()

    done = (await policy_client.get(f"/v1/whatif/{job['id']}", headers=bureau.bob)).json()
    assert (done["status"], done["percent"], done["processed"], done["total"]) == (
        "succeeded",
        100,
        40,
        40,
    )
    summary = done["summary"]
    assert summary["total"] == 40
    assert summary["changed"] == 20
    assert summary["transitions"] == {"eligible→ineligible": 20}
    assert summary["rules_making_the_difference"] == {"amount_within_cap": 20}
    assert summary["before"]["eligible"] == 40
    assert summary["before"]["approval_rate"] == "1.0000"
    assert summary["after"]["eligible"] == 20
    assert summary["after"]["ineligible"] == 20
    assert summary["after"]["approval_rate"] == "0.5000"
    # Guaranteed: 80 % of ¥250k × (1 + … + 40) before, × (1 + … + 20) after.
    assert summary["before"]["guaranteed_volume"] == "164000000.00"
    assert summary["after"]["guaranteed_volume"] == "42000000.00"

    def subsidy(r: Any) -> Decimal:
        days = (add_months(r.as_of, r.loan.term_months) - r.as_of).days
        return round_to_fen(guarantee_fee(r.loan.amount, Decimal("0.005"), days) * Decimal("0.5"))

    assert Decimal(summary["after"]["fee_subsidy"]) == sum(
        subsidy(r) for r in requests if r.loan.amount <= 5_000_000
    )
    assert Decimal(summary["before"]["fee_subsidy"]) == sum(subsidy(r) for r in requests)

    page = await policy_client.get(
        f"/v1/whatif/{job['id']}/changes?limit=5&offset=5", headers=bureau.bob
    )
    assert page.status_code == 200
    assert page.json()["total"] == 20
    assert len(page.json()["items"]) == 5
    changed_ids = set()
    offset = 0
    while offset < 20:
        items = (
            await policy_client.get(
                f"/v1/whatif/{job['id']}/changes?limit=8&offset={offset}", headers=bureau.bob
            )
        ).json()["items"]
        for item in items:
            assert (item["decision_before"], item["decision_after"]) == ("eligible", "ineligible")
            assert item["differences"]["rules"] == [
                {"code": "amount_within_cap", "before": True, "after": False}
            ]
            changed_ids.add(item["application_id"])
        offset += 8
    expected = {str(r.application_id) for r in requests if r.loan.amount > 5_000_000}
    assert changed_ids == expected


async def test_an_empty_period_is_a_clear_empty_result(
    policy_client: httpx.AsyncClient, policy_app: Any, bureau: Bureau
) -> None:
    draft_id = await draft_with_cap(policy_client, bureau, "9000000.00")
    asked = await policy_client.post(
        f"/v1/policies/{draft_id}/whatif",
        json={"period_from": "2019-01-01", "period_to": "2019-12-31"},
        headers=bureau.bob,
    )
    assert asked.status_code == 202
    await policy_app.state.whatif_runner.run_once()
    done = (await policy_client.get(f"/v1/whatif/{asked.json()['id']}", headers=bureau.bob)).json()
    assert done["status"] == "succeeded"
    assert done["percent"] == 100
    assert done["summary"]["total"] == 0
    assert done["summary"]["before"]["approval_rate"] is None
    assert done["summary"]["message_zh"] == "该期间没有评估记录，无可比较的申请"


async def test_a_job_whose_worker_died_is_run_again(
    policy_client: httpx.AsyncClient, policy_app: Any, tokens: Tokens, bureau: Bureau
) -> None:
    await assess(
        policy_client,
        tokens,
        [make_request(as_of="2025-05-02", loan__amount="6000000.00") for _ in range(3)],
    )
    draft_id = await draft_with_cap(policy_client, bureau, "5000000.00")
    asked = await policy_client.post(
        f"/v1/policies/{draft_id}/whatif",
        json={"period_from": "2025-05-01", "period_to": "2025-05-31"},
        headers=bureau.bob,
    )
    # A worker claims the job and dies: its lease runs out.
    async with policy_app.state.sessionmaker() as session, session.begin():
        now = utcnow()
        claimed = await repo.claim_job(
            session=session, now=now, lease_until=now - timedelta(seconds=1)
        )
        assert claimed is not None and str(claimed.id) == asked.json()["id"]
    assert await policy_app.state.whatif_runner.run_once() is True
    assert await policy_app.state.whatif_runner.run_once() is False
    done = (await policy_client.get(f"/v1/whatif/{asked.json()['id']}", headers=bureau.bob)).json()
    assert done["status"] == "succeeded"
    assert done["summary"]["total"] == 3
    assert done["summary"]["changed"] == 3
    changes = await policy_client.get(
        f"/v1/whatif/{asked.json()['id']}/changes", headers=bureau.bob
    )
    assert changes.json()["total"] == 3


async def test_bad_what_if_requests(
    policy_client: httpx.AsyncClient, tokens: Tokens, bureau: Bureau
) -> None:
    draft_id = await draft_with_cap(policy_client, bureau, "9000000.00")
    backwards = await policy_client.post(
        f"/v1/policies/{draft_id}/whatif",
        json={"period_from": "2025-03-31", "period_to": "2025-03-01"},
        headers=bureau.bob,
    )
    assert backwards.status_code == 422
    assert backwards.json()["type"] == "/problems/whatif-period-invalid"
    unknown = await policy_client.post(
        "/v1/policies/00000000-0000-0000-0000-000000000000/whatif",
        json={"period_from": "2025-03-01", "period_to": "2025-03-31"},
        headers=bureau.bob,
    )
    assert unknown.status_code == 404
    sme = await policy_client.post(
        f"/v1/policies/{draft_id}/whatif",
        json={"period_from": "2025-03-01", "period_to": "2025-03-31"},
        headers=tokens.header(tokens.sme("91310118MA1JL0000N")),
    )
    assert sme.status_code == 403
    missing = await policy_client.get(
        "/v1/whatif/00000000-0000-0000-0000-000000000000", headers=bureau.bob
    )
    assert missing.status_code == 404
    assert missing.json()["type"] == "/problems/whatif-not-found"
