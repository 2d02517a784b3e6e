"""The bureau changes the policy without a deploy, over real HTTP to real processes."""

import copy
import time
from typing import Any

import httpx
import pytest

from deploy.local import LocalStack
from shared.clock import shanghai_today
from tests.conftest import Tokens, make_uscc
from tests.e2e.test_path import submit, wait_for_decision

pytestmark = pytest.mark.e2e


def guarantee(stack: LocalStack, method: str, path: str, headers: dict, **kwargs: Any) -> Any:
    response = httpx.request(
        method, stack.url("guarantee") + path, headers=headers, timeout=30, **kwargs
    )
    assert response.status_code < 300, response.text
    return response.json()


def test_what_if_then_four_eyes_then_the_new_rule_applies(
    stack: LocalStack, stack_tokens: Tokens
) -> None:
    alice = stack_tokens.header(stack_tokens.bureau("alice", approver=True))
    carol = stack_tokens.header(stack_tokens.bureau("carol", approver=True))
    # Five SMEs apply for ¥2,000,000 each and are eligible under the shipped policy.
    for _ in range(5):
        uscc = make_uscc()
        response = submit(stack, stack_tokens, uscc)
        assert response.status_code == 202
        assert (
            wait_for_decision(stack, stack_tokens, uscc, response.headers["Location"])["status"]
            == "eligible"
        )

    current = guarantee(stack, "GET", "/v1/policies/in-force", alice)
    document = copy.deepcopy(current["document"])
    document["terms"]["default"]["max_amount"] = "1500000.00"
    draft = guarantee(stack, "POST", "/v1/policies", alice, json={"document": document})

    today = shanghai_today().isoformat()
    job = guarantee(
        stack,
        "POST",
        f"/v1/policies/{draft['id']}/whatif",
        alice,
        json={"period_from": today, "period_to": today},
    )
    deadline = time.monotonic() + 60
    while job["status"] not in ("succeeded", "failed") and time.monotonic() < deadline:
        time.sleep(0.2)
        job = guarantee(stack, "GET", f"/v1/whatif/{job['id']}", alice)
    assert job["status"] == "succeeded", job
    assert job["summary"]["transitions"] == {"eligible→ineligible": job["summary"]["total"]}
    assert job["summary"]["total"] >= 5
    assert job["summary"]["after"]["approval_rate"] == "0.0000"

    guarantee(
        stack,
        "POST",
        f"/v1/policies/{draft['id']}/submission",
        alice,
        json={"effective_from": today},
    )
    refused = httpx.post(
        stack.url("guarantee") + f"/v1/policies/{draft['id']}/approval", json={}, headers=alice
    )
    assert refused.status_code == 403
    guarantee(stack, "POST", f"/v1/policies/{draft['id']}/approval", carol, json={})

    uscc = make_uscc()
    response = submit(stack, stack_tokens, uscc)
    application = wait_for_decision(stack, stack_tokens, uscc, response.headers["Location"])
    assert application["status"] == "ineligible"
    cap = next(r for r in application["reasons"] if r["code"] == "amount_within_cap")
    assert cap["passed"] is False
    assert "1500000" in cap["message_zh"]
