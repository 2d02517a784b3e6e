"""What-if over a reference list version before it counts: who would change were it in force
when they applied — a firm added to 专精特新 gets the higher cap, one dropped from the
series' new version loses it, one added to 失信被执行人 is refused — and nothing else moves."""

import uuid
from typing import Any

import httpx

from services.guarantee.whatif.worker import WhatIfRunner
from tests.conftest import Tokens, make_uscc
from tests.guarantee.factories import approved_list, list_file, make_request

DAY = "2026-02-17"  # the applications' day; the period tried is that day


async def assessed(client: httpx.AsyncClient, tokens: Tokens, amount: str, **flags: bool) -> str:
    uscc = make_uscc()
    request = make_request(
        as_of=DAY, enterprise__uscc=uscc, enterprise__flags=flags, loan__amount=amount
    )
    answer = await client.post(
        "/v1/assessments",
        json=request.model_dump(mode="json"),
        headers=tokens.header(tokens.service("loan_intake")),
    )
    assert answer.status_code == 201, answer.text
    return uscc


async def draft(
    client: httpx.AsyncClient, alice: dict[str, str], kind: str, batch: str, usccs: list[str]
) -> str:
    imported = await client.post(
        "/v1/reference-lists/files",
        params={
            "kind": kind,
            "issuer": "上海市经济和信息化委员会",
            "batch": batch,
            "title": "待生效名单",
            "filename": "名单.csv",
        },
        content=list_file(usccs),
        headers={**alice, "Content-Type": "text/csv"},
    )
    assert imported.status_code == 201, imported.text
    return str(imported.json()["list"]["id"])


async def tried(
    client: httpx.AsyncClient, app: Any, alice: dict[str, str], list_id: str, processes: int
) -> tuple[dict[str, Any], dict[str, tuple[str, str]]]:
    """The job's summary and, per firm, its decision before → after."""
    asked = await client.post(
        f"/v1/reference-lists/{list_id}/whatif",
        json={"period_from": DAY, "period_to": DAY},
        headers=alice,
    )
    assert asked.status_code == 202, asked.text
    job = asked.json()
    assert job["reference_list_id"] == list_id
    runner = WhatIfRunner(sessionmaker=app.state.sessionmaker, chunk_size=5, processes=processes)
    try:
        for _ in range(20):  # jobs other tests left queued run first
            done = (await client.get(f"/v1/whatif/{job['id']}", headers=alice)).json()
            if done["status"] in ("succeeded", "failed"):
                break
            await runner.run_once()
    finally:
        runner.close()
    assert done["status"] == "succeeded", done
    changes = (
        await client.get(f"/v1/whatif/{job['id']}/changes", params={"limit": 200}, headers=alice)
    ).json()
    moved = {
        c["enterprise_uscc"]: (c["decision_before"], c["decision_after"]) for c in changes["items"]
    }
    return done["summary"], moved


async def test_a_list_version_is_tried_before_it_counts(
    guarantee_client: httpx.AsyncClient, guarantee_app: Any, tokens: Tokens
) -> None:
    alice = tokens.header(tokens.bureau("alice"))
    series = f"2026年第{uuid.uuid4().hex[:4]}批"
    # ¥12,000,000: above the ordinary cap of ¥10,000,000, within 专精特新's ¥30,000,000.
    added = await assessed(guarantee_client, tokens, "12000000.00", specialized_new=True)
    dropped_uscc = make_uscc()
    await approved_list(guarantee_client, tokens, "specialized_new", [dropped_uscc], batch=series)
    request = make_request(
        as_of=DAY,
        enterprise__uscc=dropped_uscc,
        enterprise__flags={"specialized_new": True},
        loan__amount="12000000.00",
    )
    answer = await guarantee_client.post(
        "/v1/assessments",
        json=request.model_dump(mode="json"),
        headers=tokens.header(tokens.service("loan_intake")),
    )
    assert answer.json()["decision"] == "eligible"  # on the version in force
    debtor = await assessed(guarantee_client, tokens, "2000000.00")
    bystander = await assessed(guarantee_client, tokens, "2000000.00")

    # The series' next version names the firm it did not and drops the one it did.
    next_version = await draft(guarantee_client, alice, "specialized_new", series, [added])
    summary, moved = await tried(guarantee_client, guarantee_app, alice, next_version, 1)
    assert moved == {
        added: ("ineligible", "eligible"),
        dropped_uscc: ("eligible", "ineligible"),
    }
    assert summary["transitions"].get("ineligible→eligible", 0) >= 1
    assert summary["rules_making_the_difference"].get("amount_within_cap", 0) >= 2

    debtors = await draft(guarantee_client, alice, "dishonest_debtor", f"{series}失信", [debtor])
    _, moved = await tried(guarantee_client, guarantee_app, alice, debtors, 0)
    assert moved == {debtor: ("eligible", "ineligible")}
    assert bystander not in moved

    # Tried, not in force: the firms' facts are what the approved lists say.
    facts = (
        await guarantee_client.get(
            "/v1/reference-lists/facts", params={"uscc": added, "on": DAY}, headers=alice
        )
    ).json()
    [fact] = [f for f in facts["facts"] if f["flag"] == "specialized_new"]
    assert fact["standing"] == "absent"
    # A list sent back cannot be tried.
    carol = tokens.header(tokens.bureau("carol", approver=True))
    await guarantee_client.post(
        f"/v1/reference-lists/{debtors}/submission",
        json={"effective_from": DAY},
        headers=alice,
    )
    await guarantee_client.post(f"/v1/reference-lists/{debtors}/rejection", json={}, headers=carol)
    refused = await guarantee_client.post(
        f"/v1/reference-lists/{debtors}/whatif",
        json={"period_from": DAY, "period_to": DAY},
        headers=alice,
    )
    assert refused.status_code == 409
    assert refused.json()["type"] == "/problems/reference-list-state-conflict"
