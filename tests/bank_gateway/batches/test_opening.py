"""Opening a batch: the bank is notified (signed, retried, dead-lettered, redeliverable) and
loan_intake moves the applications to allocated — all through the gateway's outbox."""

import base64
import secrets
import uuid
from datetime import timedelta
from typing import Any

import httpx

from services.bank_gateway.notifications.worker import DeliveryWorker
from shared.clock import shanghai_today
from tests.bank_gateway.conftest import Desk
from tests.bank_receiver import create_receiver


def staff(desk: Desk, who: str, *, approver: bool = False) -> dict[str, str]:
    return desk.tokens.header(desk.tokens.bureau(who, approver=approver))


async def open_batch_with(
    desk: Desk, bank: str, applications: list[str], *, open_it: bool = True
) -> dict[str, Any]:
    """Drafted and allocated by alice, approved by carol and (``open_it``) opened by bob."""
    today = shanghai_today()
    created = await desk.gateway.post(
        "/v1/batches",
        json={
            "bank_code": bank,
            "name": "开放测试批次",
            "quota": "50000000.00",
            # A window that opened long ago: the ledger tests lend in 2022 (reported
            # dates lie in the past) and 备案 refuses a disbursal outside the window.
            "valid_from": "2022-01-01",
            "valid_to": (today + timedelta(days=60)).isoformat(),
            "policy_version_id": desk.policy_version_id,
        },
        headers=staff(desk, "alice"),
    )
    batch = created.json()
    base = f"/v1/batches/{batch['id']}"
    allocated = await desk.gateway.post(
        f"{base}/allocations", json={"application_ids": applications}, headers=staff(desk, "alice")
    )
    assert all(o["allocated"] for o in allocated.json()["outcomes"])
    await desk.gateway.post(f"{base}/submission", headers=staff(desk, "alice"))
    approved = await desk.gateway.post(
        f"{base}/approval", headers=staff(desk, "carol", approver=True)
    )
    assert approved.status_code == 200
    if not open_it:
        return approved.json()
    opened = await desk.gateway.post(f"{base}/opening", headers=staff(desk, "bob"))
    assert opened.status_code == 200, opened.text
    assert opened.json()["status"] == "open"
    return opened.json()


async def application_status(desk: Desk, application_id: str) -> dict[str, Any]:
    response = await desk.intake.client.get(
        f"/v1/applications/{application_id}", headers=desk.tokens.header(desk.tokens.bureau())
    )
    return response.json()


async def test_opening_notifies_the_bank_and_allocates_in_intake(desk: Desk) -> None:
    bank = await desk.register_bank()
    applications = await desk.eligible_applications(2)
    batch = await open_batch_with(desk, bank, applications)

    assert (await application_status(desk, applications[0]))["status"] == "eligible"
    pending = await desk.gateway.get("/v1/deliveries?status=pending", headers=staff(desk, "bob"))
    mine = [d for d in pending.json()["items"] if d["payload"].get("batch_id") == batch["id"]]
    assert sorted(d["kind"] for d in mine) == ["intake", "intake", "webhook"]

    await desk.deliver()

    [opened] = desk.bank.of_type("batch.opened")
    assert desk.bank.refused == 0
    assert opened["data"]["batch_id"] == batch["id"]
    assert {loan["application_id"] for loan in opened["data"]["loans"]} == set(applications)
    assert opened["data"]["loans"][0]["amount"] == "2000000.00"
    for application_id in applications:
        application = await application_status(desk, application_id)
        assert application["status"] == "allocated"
        last = application["history"][-1]
        assert last["actor"] == "service:bank_gateway"
        assert "测试银行" in last["reason"]
        assert last["details"]["batch_id"] == batch["id"]
    delivered = await desk.gateway.get(
        f"/v1/deliveries?bank={bank}&status=delivered", headers=staff(desk, "bob")
    )
    assert [d["event_type"] for d in delivered.json()["items"]] == ["batch.opened"]
    assert delivered.json()["items"][0]["webhook_id"].startswith("msg_")


async def test_a_failing_bank_is_retried_then_dead_lettered_then_redelivered(desk: Desk) -> None:
    bank = await desk.register_bank()
    batch = await open_batch_with(desk, bank, await desk.eligible_applications(1))
    desk.bank.fail_next = 2
    await desk.deliver()
    assert len(desk.bank.of_type("batch.opened")) == 1  # third attempt got through
    listing = await desk.gateway.get(
        f"/v1/deliveries?bank={bank}&status=delivered", headers=staff(desk, "bob")
    )
    [delivery] = listing.json()["items"]
    assert delivery["attempts"] == 3

    # A bank that is down past the retry window: dead, then sent again by hand.
    second = await open_batch_with(desk, bank, await desk.eligible_applications(1))
    desk.bank.fail_next = 1
    impatient = DeliveryWorker(
        sessionmaker=desk.app.state.sessionmaker,
        intake=desk.app.state.intake,
        webhooks=httpx.AsyncClient(transport=httpx.ASGITransport(app=create_receiver(desk.bank))),
        retry_window=timedelta(0),
        private_webhooks=True,  # the test bank's address (bank.test) is not on the internet
    )
    await impatient.step()
    dead = await desk.gateway.get(
        f"/v1/deliveries?bank={bank}&status=dead", headers=staff(desk, "bob")
    )
    [corpse] = dead.json()["items"]
    assert corpse["payload"]["batch_id"] == second["id"]
    assert corpse["last_status_code"] == 503
    again = await desk.gateway.post(
        f"/v1/deliveries/{corpse['id']}/redelivery", headers=staff(desk, "bob")
    )
    assert again.status_code == 200 and again.json()["status"] == "pending"
    twice = await desk.gateway.post(
        f"/v1/deliveries/{corpse['id']}/redelivery", headers=staff(desk, "bob")
    )
    assert twice.status_code == 409
    await desk.deliver()
    assert [e["data"]["batch_id"] for e in desk.bank.of_type("batch.opened")] == [
        batch["id"],
        second["id"],
    ]


async def test_the_bank_refuses_a_wrong_signature_and_rotation_keeps_both_valid(
    desk: Desk,
) -> None:
    bank = await desk.register_bank()
    real = desk.bank.secret
    desk.bank.secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    await open_batch_with(desk, bank, await desk.eligible_applications(1))
    await desk.app.state.dispatcher.step()
    assert desk.bank.refused == 1 and desk.bank.events == []

    rotated = await desk.gateway.post(
        f"/v1/banks/{bank}/signing-secrets",
        json={"overlap_hours": 24},
        headers=desk.tokens.header(desk.tokens.admin()),
    )
    desk.bank.secret = real  # the bank still checks with the old secret: accepted
    await desk.deliver()
    assert len(desk.bank.of_type("batch.opened")) == 1
    desk.bank.secret = rotated.json()["signing_secret"]  # … and with the new one
    await open_batch_with(desk, bank, await desk.eligible_applications(1))
    await desk.deliver()
    assert len(desk.bank.of_type("batch.opened")) == 2


async def test_loan_updates_reach_intake_once_and_only_from_the_gateway(desk: Desk) -> None:
    [application_id] = await desk.eligible_applications(1)
    update = {
        "update_id": str(uuid.uuid4()),
        "status": "allocated",
        "occurred_at": "2026-11-25T08:00:00Z",
        "reason_zh": "已分配至测试批次",
    }
    url = f"/v1/applications/{application_id}/loan-updates"
    gateway = desk.tokens.header(desk.tokens.service("bank_gateway"))
    first = await desk.intake.client.post(url, json=update, headers=gateway)
    assert first.status_code == 201
    again = await desk.intake.client.post(url, json=update, headers=gateway)
    assert again.status_code == 200
    assert len(again.json()["history"]) == len(first.json()["history"])
    stranger = await desk.intake.client.post(
        url,
        json={**update, "update_id": str(uuid.uuid4())},
        headers=desk.tokens.header(desk.tokens.service("guarantee")),
    )
    assert stranger.status_code == 403
    impossible = await desk.intake.client.post(
        url, json={**update, "update_id": str(uuid.uuid4()), "status": "eligible"}, headers=gateway
    )
    assert impossible.status_code == 409


async def test_loan_updates_in_a_batch_are_applied_in_order_each_on_its_own(desk: Desk) -> None:
    a, b = await desk.eligible_applications(2)

    def update(application_id: str, status: str, update_id: str | None = None) -> dict:
        return {
            "application_id": application_id,
            "update_id": update_id or str(uuid.uuid4()),
            "status": status,
            "occurred_at": "2026-11-25T08:00:00Z",
            "reason_zh": f"变为 {status}",
        }

    allocated_a = update(a, "allocated")
    updates = [
        allocated_a,
        update(b, "approved"),  # not allowed from eligible: refused …
        update(b, "allocated"),  # … and b's later ones held back, to come again in order
        update(a, "approved"),
        allocated_a,  # the same update twice in one batch: applied once
    ]
    gateway = desk.tokens.header(desk.tokens.service("bank_gateway"))
    response = await desk.intake.client.post(
        "/v1/applications/loan-updates", json={"updates": updates}, headers=gateway
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["outcome"] for r in results] == [
        "applied",
        "refused",
        "skipped",
        "applied",
        "duplicate",
    ]
    assert results[1]["problem_type"] == "transition-not-allowed"
    assert [h["to_status"] for h in (await application_status(desk, a))["history"]][-2:] == [
        "allocated",
        "approved",
    ]
    assert (await application_status(desk, b))["status"] == "eligible"
    again = await desk.intake.client.post(
        "/v1/applications/loan-updates", json={"updates": [updates[2]]}, headers=gateway
    )
    assert again.json()["results"][0]["outcome"] == "applied"
    unknown = await desk.intake.client.post(
        "/v1/applications/loan-updates",
        json={"updates": [update(str(uuid.uuid4()), "allocated")]},
        headers=gateway,
    )
    assert unknown.json()["results"][0]["problem_type"] == "application-not-found"
    other_service = desk.tokens.header(desk.tokens.service("guarantee"))
    assert (
        await desk.intake.client.post(
            "/v1/applications/loan-updates", json={"updates": updates}, headers=other_service
        )
    ).status_code == 403


async def test_pending_deliveries_survive_a_restart(desk: Desk, gateway_db: str, keys_dir) -> None:
    from services.bank_gateway.config import Settings
    from services.bank_gateway.main import create_app

    bank = await desk.register_bank()
    batch = await open_batch_with(desk, bank, await desk.eligible_applications(1))
    # A second gateway process on the same database, started after the first one "died"
    # before delivering anything.
    settings = Settings(
        database_url=gateway_db,
        keys_dir=keys_dir,
        environment="test",
        intake_url="http://intake",
        run_outbox_worker=False,
    )
    restarted = create_app(
        settings,
        intake_transport=httpx.ASGITransport(app=desk.intake.app),
        webhook_transport=httpx.ASGITransport(app=create_receiver(desk.bank)),
    )
    async with restarted.router.lifespan_context(restarted):
        while await restarted.state.dispatcher.step():
            pass
    [opened] = desk.bank.of_type("batch.opened")
    assert opened["data"]["batch_id"] == batch["id"]


async def test_allocating_into_an_open_batch_tells_the_bank_and_intake(desk: Desk) -> None:
    bank = await desk.register_bank()
    batch = await open_batch_with(desk, bank, await desk.eligible_applications(1))
    [late] = await desk.eligible_applications(1)
    added = await desk.gateway.post(
        f"/v1/batches/{batch['id']}/allocations",
        json={"application_ids": [late]},
        headers=staff(desk, "alice"),
    )
    assert added.json()["outcomes"][0]["allocated"] is True
    await desk.deliver()
    [notice] = desk.bank.of_type("batch.loans_added")
    assert [loan["application_id"] for loan in notice["data"]["loans"]] == [late]
    assert (await application_status(desk, late))["status"] == "allocated"
