"""The 政府 + 担保 + 银行 link over real HTTP: a bank as a process of its own receives the
gateway's signed notifications and reports its loans by signed callbacks."""

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from deploy.local import ROOT, LocalStack, free_port
from shared.clock import shanghai_today
from tests.conftest import Tokens, make_uscc
from tests.e2e.test_path import submit, wait_for_decision

pytestmark = pytest.mark.e2e


def until(check: Any, timeout: float = 30.0, every: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every)


@pytest.fixture
def bank(stack: LocalStack, stack_tokens: Tokens) -> Iterator[dict[str, Any]]:
    """A registered partner bank whose webhook endpoint is a real process."""
    port = free_port()
    code = f"e{uuid.uuid4().hex[:8]}"
    registered = httpx.post(
        stack.url("bank_gateway") + "/v1/banks",
        json={
            "code": code,
            "name": "端到端测试银行",
            "webhook_url": f"http://127.0.0.1:{port}/hooks",
        },
        headers=stack_tokens.header(stack_tokens.admin()),
        timeout=10,
    )
    assert registered.status_code == 201, registered.text
    credentials = registered.json()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.bank_receiver", str(port)],
        cwd=ROOT,
        env={**os.environ, "BANK_SIGNING_SECRET": credentials["signing_secret"]},
    )
    url = f"http://127.0.0.1:{port}"
    assert until(lambda: _up(url + "/events"), timeout=20), "bank receiver did not start"
    try:
        yield {"code": code, "url": url, **credentials}
    finally:
        process.terminate()
        process.wait(timeout=10)


def _up(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def signed_post(url: str, token: str, secret: str, payload: Any) -> httpx.Response:
    body = json.dumps(payload, ensure_ascii=False)
    msg_id, now = f"msg_{uuid.uuid4().hex}", datetime.now(UTC)
    return httpx.post(
        url,
        content=body.encode(),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(secret).sign(msg_id, now, body),
        },
        timeout=10,
    )


def test_batch_opened_to_a_real_bank_which_reports_back(
    stack: LocalStack, stack_tokens: Tokens, bank: dict[str, Any]
) -> None:
    gateway, intake = stack.url("bank_gateway"), stack.url("loan_intake")
    applications = []
    for _ in range(2):
        uscc = make_uscc()
        response = submit(stack, stack_tokens, uscc)
        decided = wait_for_decision(stack, stack_tokens, uscc, response.headers["Location"])
        assert decided["status"] == "eligible"
        applications.append((uscc, decided["id"]))

    alice = stack_tokens.header(stack_tokens.bureau("alice"))
    carol = stack_tokens.header(stack_tokens.bureau("carol", approver=True))
    today = shanghai_today()
    policy = httpx.get(
        stack.url("guarantee") + "/v1/policies/in-force", headers=alice, timeout=10
    ).json()
    batch = httpx.post(
        gateway + "/v1/batches",
        json={
            "bank_code": bank["code"],
            "name": "端到端批次",
            "quota": "10000000.00",
            "valid_from": today.isoformat(),
            "valid_to": (today + timedelta(days=90)).isoformat(),
            "policy_version_id": policy["id"],
        },
        headers=alice,
        timeout=10,
    ).json()
    base = f"{gateway}/v1/batches/{batch['id']}"
    allocated = httpx.post(
        base + "/allocations",
        json={"application_ids": [a for _, a in applications]},
        headers=alice,
        timeout=30,
    )
    assert all(o["allocated"] for o in allocated.json()["outcomes"]), allocated.text
    assert httpx.post(base + "/submission", headers=alice, timeout=10).status_code == 200
    assert httpx.post(base + "/approval", headers=carol, timeout=10).status_code == 200
    assert httpx.post(base + "/opening", headers=alice, timeout=10).status_code == 200

    def opened() -> Any:
        events = httpx.get(bank["url"] + "/events", timeout=5).json()["events"]
        return [e for e in events if e["type"] == "batch.opened"]

    [notice] = until(opened)
    assert httpx.get(bank["url"] + "/events", timeout=5).json()["refused"] == 0
    loans = {loan["application_id"]: loan["loan_id"] for loan in notice["data"]["loans"]}
    assert set(loans) == {a for _, a in applications}

    def status(uscc: str, application_id: str) -> str:
        return httpx.get(
            f"{intake}/v1/applications/{application_id}",
            headers=stack_tokens.header(stack_tokens.sme(uscc)),
            timeout=5,
        ).json()["status"]

    for uscc, application_id in applications:
        assert until(lambda u=uscc, a=application_id: status(u, a) == "allocated")

    token = httpx.post(
        gateway + "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(bank["client_id"], bank["client_secret"]),
        timeout=10,
    ).json()["access_token"]
    first, second = applications
    approved = {
        "approved_amount": "2000000.00",
        "annual_interest_rate": "0.0385",
        "approved_on": today.isoformat(),
    }
    disbursed = {
        "amount": "2000000.00",
        "disbursed_on": today.isoformat(),
        "maturity_on": (today + timedelta(days=365)).isoformat(),
    }
    one = loans[first[1]]
    for kind, data in (("loan.approved", approved), ("loan.disbursed", disbursed)):
        response = signed_post(
            gateway + "/v1/bank/events",
            token,
            bank["signing_secret"],
            {"type": kind, "data": {"loan_id": one, **data}},
        )
        assert response.status_code == 200, response.text
    two = loans[second[1]]
    bulk = signed_post(
        gateway + "/v1/bank/events/bulk",
        token,
        bank["signing_secret"],
        {
            "events": [
                {
                    "id": "r1",
                    "type": "loan.repayment",
                    "data": {
                        "loan_id": two,
                        "principal": "200000.00",
                        "interest": "6400.00",
                        "paid_on": today.isoformat(),
                    },
                },
                {"id": "d1", "type": "loan.disbursed", "data": {"loan_id": two, **disbursed}},
                {"id": "a1", "type": "loan.approved", "data": {"loan_id": two, **approved}},
            ]
        },
    )
    assert bulk.status_code == 200, bulk.text
    assert [r["status"] for r in bulk.json()["results"]] == ["held", "held", "applied"]

    assert until(lambda: status(*first) == "disbursed")
    assert until(lambda: status(*second) == "repaying")
    history = httpx.get(
        f"{intake}/v1/applications/{second[1]}",
        headers=stack_tokens.header(stack_tokens.sme(second[0])),
        timeout=5,
    ).json()["history"]
    assert "剩余本金 1800000.00 元" in history[-1]["reason"]
