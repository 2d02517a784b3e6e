"""The loss figures' policy data, frozen into each batch: the ceiling on the batch's quota
instead of its filed principal, and a suspension that lifts by itself when the loss rate
falls back under the line."""

import copy
from datetime import timedelta
from typing import Any

from shared.clock import shanghai_today
from tests.bank_gateway.batches.test_opening import open_batch_with
from tests.bank_gateway.conftest import Desk
from tests.bank_gateway.ledger.test_claims import claim, default, risk
from tests.bank_gateway.ledger.test_events import APPROVED, DISBURSED, Bank, event
from tests.conftest import asgi_client


async def approved_policy(desk: Desk, guarantee_app: Any, **batch_risk: Any) -> str:
    """A version of the policy in force with ``batch_risk`` changed, approved (four eyes)
    and in force from next month, so today's assessments are unchanged."""
    alice = desk.tokens.header(desk.tokens.bureau("alice"))
    carol = desk.tokens.header(desk.tokens.bureau("carol", approver=True))
    async with asgi_client(guarantee_app, "http://guarantee") as fund:
        current = (await fund.get("/v1/policies/in-force", headers=alice)).json()
        draft = (
            await fund.post(
                "/v1/policies",
                json={"from_version_id": current["id"], "note": "上限口径"},
                headers=alice,
            )
        ).json()
        document = copy.deepcopy(draft["document"])
        document["batch_risk"].update(batch_risk)
        url = f"/v1/policies/{draft['id']}"
        edited = await fund.put(f"{url}/document", json={"document": document}, headers=alice)
        assert edited.status_code == 200, edited.text
        later = (shanghai_today() + timedelta(days=30)).isoformat()
        await fund.post(f"{url}/submission", json={"effective_from": later}, headers=alice)
        approved = await fund.post(f"{url}/approval", json={}, headers=carol)
        assert approved.status_code == 200, approved.text
    return str(draft["id"])


async def test_a_ceiling_on_the_quota_and_a_suspension_that_lifts_by_itself(
    desk: Desk, guarantee_app: Any
) -> None:
    """Quota 50,000,000 × 5 % = 2,500,000 of room from the start: a 1,600,000 claim on a
    batch with 4,000,000 lent is paid in full (on filed principal it would be cut to
    200,000). The default suspends the batch; the recovery that repays the fund brings the
    rate back under the line and the batch reopens by itself (the bank told)."""
    version = await approved_policy(
        desk, guarantee_app, ceiling_base="batch_quota", auto_resume=True
    )
    desk.policy_version_id, default_version = version, desk.policy_version_id
    try:
        code = await desk.register_bank()
        batch = await open_batch_with(desk, code, await desk.eligible_applications(2))
    finally:
        desk.policy_version_id = default_version
    await desk.deliver()
    bank = Bank(desk, code)
    await bank.sign_in()
    a, b = (loan["loan_id"] for loan in desk.bank.of_type("batch.opened")[-1]["data"]["loans"])
    for loan_id in (a, b):
        await bank.send(event("loan.approved", loan_id, **APPROVED))
        await bank.send(event("loan.disbursed", loan_id, **DISBURSED))
    await desk.deliver()

    await default(bank, a, "2000000.00")
    assert (await risk(desk, batch["id"]))["status"] == "suspended"
    await bank.send(claim(a, "2000000.00", "0.00"))
    await desk.deliver()
    await desk.decide_claim(a)
    decided = desk.bank.of_type("claim.decided")[-1]["data"]
    assert (decided["outcome"], decided["payout"]) == ("paid", "1600000.00")
    assert decided["ceiling_amount"] == "2500000.00"
    figures = await risk(desk, batch["id"])
    assert figures["compensation_ceiling_amount"] == "2500000.00"

    recovered = event("loan.recovered", a, amount="2000000.00", recovered_on="2023-08-01")
    assert (await bank.send(recovered)).status_code == 200
    await desk.deliver()
    after = await risk(desk, batch["id"])
    assert (after["net_loss"], after["status"]) == ("0.00", "open")
    [reopened] = desk.bank.of_type("batch.reopened")
    assert reopened["data"]["batch_id"] == batch["id"]
