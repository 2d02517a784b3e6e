"""The walking skeleton over real HTTP between real processes, each service's background
work in a worker process of its own (as ``make run`` starts them)."""

import json
import time
from typing import Any

import httpx
import pytest

from deploy.local import LocalStack, worker_name
from tests.conftest import Tokens, application_body, make_uscc
from tests.e2e.conftest import log_lines

pytestmark = pytest.mark.e2e

SEPARATE_WORKERS = True


def submit(stack: LocalStack, tokens: Tokens, uscc: str, **headers: str) -> httpx.Response:
    return httpx.post(
        stack.url("loan_intake") + "/v1/applications",
        json=application_body(uscc),
        headers={**tokens.header(tokens.sme(uscc)), **headers},
        timeout=10,
    )


def wait_for_decision(
    stack: LocalStack, tokens: Tokens, uscc: str, location: str, timeout: float = 20
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        response = httpx.get(
            stack.url("loan_intake") + location, headers=tokens.header(tokens.sme(uscc)), timeout=10
        )
        application = response.json()
        if application["status"] != "assessing" or time.monotonic() > deadline:
            return application
        time.sleep(0.1)


def test_sme_submits_and_sees_the_outcome(stack: LocalStack, stack_tokens: Tokens) -> None:
    uscc = make_uscc()
    response = submit(stack, stack_tokens, uscc, **{"X-Request-ID": f"e2e-{uscc}"})
    assert response.status_code == 202
    assert response.headers["X-Request-ID"] == f"e2e-{uscc}"

    application = wait_for_decision(stack, stack_tokens, uscc, response.headers["Location"])
    assert application["status"] == "eligible"
    assert application["terms"]["annual_fee"] == "10000.00"
    assert [h["to_status"] for h in application["history"]] == [
        "submitted",
        "assessing",
        "eligible",
    ]

    # One request id, followed from intake's log into the guarantee service's.
    def lines_with_id(service: str) -> list[dict[str, Any]]:
        return [
            json.loads(line)
            for line in log_lines(stack, service)
            if f"e2e-{uscc}" in line and line.startswith("{")
        ]

    intake_events = {e["event"] for e in lines_with_id("loan_intake")}
    guarantee_events = {e["event"] for e in lines_with_id("guarantee")}
    assert {"application.submitted", "application.assessed"} <= intake_events
    assert "assessment.decided" in guarantee_events


def test_background_work_runs_in_the_worker_processes(stack: LocalStack) -> None:
    """serve hands its work over; each service's worker process runs all of it."""
    for name in ("loan_intake", "guarantee", "bank_gateway"):
        worker = stack.processes[worker_name(name)]
        assert worker.poll() is None, f"{name}'s worker exited"
        started = [
            json.loads(line)
            for line in log_lines(stack, name)
            if line.startswith("{") and '"jobs.started"' in line
        ]
        roles = {entry["role"] for entry in started}
        assert roles == {"handoff", "worker"}, (name, roles)
        ran = {q for entry in started if entry["role"] == "worker" for q in entry["queues"]}
        assert f"{name}.audit" in ran, (name, ran)


def test_guarantee_down_then_up(stack: LocalStack, stack_tokens: Tokens) -> None:
    stack.stop("guarantee")
    try:
        uscc = make_uscc()
        response = submit(stack, stack_tokens, uscc)
        assert response.status_code == 202
        time.sleep(2.0)  # several retries against a closed port
        waiting = wait_for_decision(
            stack, stack_tokens, uscc, response.headers["Location"], timeout=0
        )
        assert waiting["status"] == "assessing"
    finally:
        stack.start("guarantee")
        stack.wait_ready("guarantee")
    application = wait_for_decision(stack, stack_tokens, uscc, response.headers["Location"])
    assert application["status"] == "eligible"
    assert [h["to_status"] for h in application["history"]].count("eligible") == 1


def test_intake_killed_mid_retry_loses_nothing(stack: LocalStack, stack_tokens: Tokens) -> None:
    stack.stop("guarantee")
    try:
        uscc = make_uscc()
        response = submit(stack, stack_tokens, uscc)
        assert response.status_code == 202
        time.sleep(1.0)
        stack.stop("loan_intake", kill=True)  # SIGKILL: no graceful anything
        stack.start("loan_intake")
        stack.wait_ready("loan_intake")
    finally:
        stack.start("guarantee")
        stack.wait_ready("guarantee")
    application = wait_for_decision(stack, stack_tokens, uscc, response.headers["Location"])
    assert application["status"] == "eligible"
    listing = httpx.get(
        stack.url("loan_intake") + "/v1/applications",
        headers=stack_tokens.header(stack_tokens.sme(uscc)),
    ).json()
    assert listing["total"] == 1
    assessments = httpx.get(
        stack.url("guarantee") + f"/v1/assessments/{application['assessment_id']}",
        headers=stack_tokens.header(stack_tokens.bureau()),
    )
    assert assessments.status_code == 200


def test_every_service_is_ready_and_documented(stack: LocalStack) -> None:
    for name in ("loan_intake", "guarantee", "bank_gateway"):
        ready = httpx.get(stack.url(name) + "/readyz")
        assert ready.json()["status"] == "ready"
        assert "server" not in ready.headers  # nothing for a scanner to read
        assert httpx.get(stack.url(name) + "/openapi.json").json()["info"]["title"]
        assert "http_requests_total" in httpx.get(stack.url(name) + "/metrics").text


def test_a_forged_forwarded_address_buys_no_fresh_guesses(stack: LocalStack) -> None:
    """uvicorn believes X-Forwarded-For from loopback by default; ours only from
    GATEWAY_TRUSTED_PROXIES (empty here). Last in the module: it leaves 127.0.0.1 throttled
    at this stack's token endpoint for fifteen minutes."""
    token_url = stack.url("bank_gateway") + "/oauth/token"
    form = {"grant_type": "client_credentials", "client_id": "bank-srcb", "client_secret": "x"}
    for i in range(20):
        forged = {"X-Forwarded-For": f"198.51.100.{i}"}
        assert httpx.post(token_url, data=form, headers=forged).status_code == 401
    right = {**form, "client_secret": "dev-secret-srcb"}
    blocked = httpx.post(token_url, data=right, headers={"X-Forwarded-For": "198.51.100.99"})
    assert blocked.status_code == 429
