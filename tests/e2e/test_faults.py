"""The fault suite: each service SIGKILLed at a chosen point of the full flow, restarted,
and the flow finished by nothing more than what a real client and the services' own
retries do. Afterwards every application, event and notification exists exactly once.

The points (shared/faults.py) are where work is half done across a boundary:

- submission: intake committed the application, the SME never got the answer;
- assessment hand-off: intake has the guarantee service's answer, not yet recorded;
- batch opening: the gateway committed the opening, the bureau never got the answer;
- callback ingestion: the gateway committed a bank's event, the bank never got the answer;
- notification delivery: the bank got the notification, the gateway never marked it;
- claim: the guarantee service took the claim for review, the gateway never heard; then the
  fund decided it and the gateway recorded the decision, the guarantee service never heard.
"""

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from deploy.local import LocalStack
from shared.clock import shanghai_today
from shared.faults import ENV
from tests.conftest import Tokens, make_uscc
from tests.e2e.test_bank_flow import (
    bank_token,
    eligible,
    fund_decides,
    open_batch,
    real_bank,
    until,
)
from tests.e2e.test_path import submit, wait_for_decision

pytestmark = pytest.mark.e2e


# Work a dead worker had leased waits this long before a live one takes it over.
SHORT_LEASES = {"INTAKE_OUTBOX_LEASE_SECONDS": "2", "GATEWAY_OUTBOX_LEASE_SECONDS": "2"}


def arm(stack: LocalStack, service: str, point: str) -> None:
    """Restart ``service`` so that it kills itself at ``point``."""
    stack.stop(service)
    stack.start(service, env={ENV: point, **SHORT_LEASES})
    stack.wait_ready(service)


def killed_then_restarted(stack: LocalStack, service: str) -> None:
    """Wait for ``service`` to have died by SIGKILL at its point, then start it plainly."""
    process = stack.processes[service]
    assert until(lambda: process.poll() is not None, timeout=30), f"{service} did not crash"
    assert process.returncode == -9, f"{service} exited with {process.returncode}, not SIGKILL"
    stack.stop(service)
    stack.start(service)
    stack.wait_ready(service)


@pytest.fixture(scope="module")
def bank(stack: LocalStack, stack_tokens: Tokens) -> Iterator[dict[str, Any]]:
    with real_bank(stack, stack_tokens, "故障测试银行") as registered:
        yield registered


def signed(url: str, token: str, secret: str, payload: Any, msg_id: str) -> httpx.Response:
    """A bank's signed callback with the id it would use again when retrying."""
    body = json.dumps(payload, ensure_ascii=False)
    now = datetime.now(UTC)
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


def history(stack: LocalStack, tokens: Tokens, application_id: str) -> list[dict[str, Any]]:
    return httpx.get(
        f"{stack.url('loan_intake')}/v1/applications/{application_id}",
        headers=tokens.header(tokens.bureau()),
        timeout=5,
    ).json()["history"]


def times_reached(entries: list[dict[str, Any]], status: str) -> int:
    return sum(1 for entry in entries if entry["to_status"] == status)


def received(bank: dict[str, Any]) -> dict[str, Any]:
    return httpx.get(bank["receiver"].url + "/events", timeout=5).json()


def notices(bank: dict[str, Any], event_type: str, **match: str) -> list[dict[str, Any]]:
    """The notifications of ``event_type`` the bank took (each id once) matching ``match``."""
    return [
        e
        for e in bank["receiver"].events(event_type)
        if all(e["data"].get(k) == v for k, v in match.items())
    ]


def test_submission_committed_but_never_answered(stack: LocalStack, stack_tokens: Tokens) -> None:
    arm(stack, "loan_intake", "committed POST /v1/applications")
    uscc, key = make_uscc(), uuid.uuid4().hex
    with pytest.raises(httpx.HTTPError):
        submit(stack, stack_tokens, uscc, **{"Idempotency-Key": key})
    killed_then_restarted(stack, "loan_intake")

    again = submit(stack, stack_tokens, uscc, **{"Idempotency-Key": key})  # the SME retries
    assert again.status_code in (200, 202), again.text
    decided = wait_for_decision(stack, stack_tokens, uscc, again.headers["Location"])
    assert decided["status"] == "eligible"
    mine = httpx.get(
        stack.url("loan_intake") + "/v1/applications",
        headers=stack_tokens.header(stack_tokens.sme(uscc)),
        timeout=5,
    ).json()
    assert mine["total"] == 1, "the retry made no second application"
    assert times_reached(history(stack, stack_tokens, decided["id"]), "eligible") == 1


def test_assessment_answered_but_not_recorded(stack: LocalStack, stack_tokens: Tokens) -> None:
    arm(stack, "loan_intake", "intake.handoff.answered")
    uscc = make_uscc()
    accepted = submit(stack, stack_tokens, uscc)
    assert accepted.status_code == 202
    killed_then_restarted(stack, "loan_intake")

    decided = wait_for_decision(stack, stack_tokens, uscc, accepted.headers["Location"])
    assert decided["status"] == "eligible"
    entries = history(stack, stack_tokens, decided["id"])
    assert times_reached(entries, "eligible") == 1
    # The guarantee service was asked twice and answered with the same assessment.
    assessment = httpx.get(
        f"{stack.url('guarantee')}/v1/assessments/{decided['assessment_id']}",
        headers=stack_tokens.header(stack_tokens.bureau()),
        timeout=5,
    )
    assert assessment.status_code == 200
    assert assessment.json()["application_id"] == decided["id"]


def test_batch_opened_but_never_answered(
    stack: LocalStack, stack_tokens: Tokens, bank: dict[str, Any]
) -> None:
    applications = eligible(stack, stack_tokens, 1)
    arm(stack, "bank_gateway", "committed POST /v1/batches/{batch_id}/opening")
    with pytest.raises(httpx.HTTPError):
        open_batch(stack, stack_tokens, bank, applications)
    killed_then_restarted(stack, "bank_gateway")

    staff = stack_tokens.header(stack_tokens.bureau("alice"))
    batches = httpx.get(
        f"{stack.url('bank_gateway')}/v1/batches?bank={bank['code']}", headers=staff, timeout=5
    ).json()["items"]
    [batch] = [b for b in batches if b["status"] == "open"]
    retried = httpx.post(
        f"{stack.url('bank_gateway')}/v1/batches/{batch['id']}/opening", headers=staff, timeout=5
    )
    assert retried.status_code == 409, "the bureau's retry learns the batch is open already"
    opened = until(
        lambda: [
            e
            for e in bank["receiver"].events("batch.opened")
            if e["data"]["batch_id"] == batch["id"]
        ]
    )
    assert len(opened) == 1
    (_, application_id) = applications[0]
    assert until(
        lambda: times_reached(history(stack, stack_tokens, application_id), "allocated") == 1
    )


def approved_loan(
    stack: LocalStack, stack_tokens: Tokens, bank: dict[str, Any]
) -> tuple[str, str, str]:
    """(application id, loan id, batch id) of a loan in a freshly opened batch."""
    applications = eligible(stack, stack_tokens, 1)
    batch_id, loans = open_batch(stack, stack_tokens, bank, applications)
    (_, application_id) = applications[0]
    return application_id, loans[application_id], batch_id


def test_a_bank_event_committed_but_never_answered(
    stack: LocalStack, stack_tokens: Tokens, bank: dict[str, Any]
) -> None:
    application_id, loan_id, _ = approved_loan(stack, stack_tokens, bank)
    token = bank_token(stack, bank)
    today = shanghai_today()
    event = {
        "type": "loan.approved",
        "data": {
            "loan_id": loan_id,
            "approved_amount": "2000000.00",
            "annual_interest_rate": "0.0385",
            "approved_on": today.isoformat(),
        },
    }
    url, msg_id = stack.url("bank_gateway") + "/v1/bank/events", f"msg_{uuid.uuid4().hex}"
    arm(stack, "bank_gateway", "committed POST /v1/bank/events")
    with pytest.raises(httpx.HTTPError):
        signed(url, token, bank["signing_secret"], event, msg_id)
    killed_then_restarted(stack, "bank_gateway")

    again = signed(url, token, bank["signing_secret"], event, msg_id)  # the bank retries
    assert again.status_code == 200, again.text
    assert (again.json()["status"], again.json()["loan_state"]) == ("applied", "approved")
    assert until(
        lambda: times_reached(history(stack, stack_tokens, application_id), "approved") == 1
    )
    time.sleep(1.0)  # anything sent twice would have arrived by now
    assert times_reached(history(stack, stack_tokens, application_id), "approved") == 1


def test_a_notification_delivered_but_never_marked(
    stack: LocalStack, stack_tokens: Tokens, bank: dict[str, Any]
) -> None:
    applications = eligible(stack, stack_tokens, 1)
    arm(stack, "bank_gateway", "gateway.delivery.sent")
    # The opening commits and answers; the worker sends batch.opened, the bank takes it,
    # and the worker dies before marking it delivered.
    batch_id, _ = open_batch(stack, stack_tokens, bank, applications)
    killed_then_restarted(stack, "bank_gateway")

    def times_sent() -> int:
        return received(bank)["deliveries"].get(_notice_id(bank, batch_id), 0)

    assert until(times_sent, timeout=30) and until(lambda: times_sent() >= 2), (
        "sent before the crash and again after it, under the same webhook-id"
    )
    assert len(notices(bank, "batch.opened", batch_id=batch_id)) == 1, "taken once"
    staff = stack_tokens.header(stack_tokens.bureau("alice"))
    delivered = httpx.get(
        f"{stack.url('bank_gateway')}/v1/deliveries?bank={bank['code']}&status=delivered",
        headers=staff,
        timeout=5,
    ).json()["items"]
    assert any(d["event_type"] == "batch.opened" and d["attempts"] >= 2 for d in delivered)


def _notice_id(bank: dict[str, Any], batch_id: str) -> str:
    for msg_id, payload in received(bank)["by_id"].items():
        if payload["type"] == "batch.opened" and payload["data"]["batch_id"] == batch_id:
            return msg_id
    return ""


def test_a_claim_decided_but_never_answered(
    stack: LocalStack, stack_tokens: Tokens, bank: dict[str, Any]
) -> None:
    application_id, loan_id, batch_id = approved_loan(stack, stack_tokens, bank)
    token = bank_token(stack, bank)
    lent_on = shanghai_today() - timedelta(days=199)  # a loan's past, as a bank reports it
    life = [
        (
            "loan.approved",
            {
                "approved_amount": "2000000.00",
                "annual_interest_rate": "0.0385",
                "approved_on": lent_on.isoformat(),
            },
        ),
        (
            "loan.disbursed",
            {
                "amount": "2000000.00",
                "disbursed_on": lent_on.isoformat(),
                "maturity_on": (lent_on + timedelta(days=365)).isoformat(),
            },
        ),
        (
            "loan.repayment",
            {
                "principal": "1900000.00",
                "interest": "6400.00",
                "paid_on": (lent_on + timedelta(days=30)).isoformat(),
            },
        ),
        (
            "loan.overdue",
            {"overdue_principal": "100000.00", "since": (lent_on + timedelta(days=60)).isoformat()},
        ),
        (
            "loan.defaulted",
            {
                "outstanding_principal": "100000.00",
                "interest_due": "0.00",
                "defaulted_on": (lent_on + timedelta(days=150)).isoformat(),
            },
        ),
    ]
    url = stack.url("bank_gateway") + "/v1/bank/events"
    for kind, data in life:
        sent = signed(
            url,
            token,
            bank["signing_secret"],
            {"type": kind, "data": {"loan_id": loan_id, **data}},
            f"msg_{uuid.uuid4().hex}",
        )
        assert sent.status_code == 200, sent.text
    staff = stack_tokens.header(stack_tokens.bureau("alice"))
    guarantee = stack.url("guarantee")
    assert until(
        lambda: (
            httpx.get(f"{guarantee}/v1/guarantees/{loan_id}", headers=staff, timeout=5).status_code
            == 200
        )
    ), "the guarantee was issued (备案) before the claim"

    arm(stack, "guarantee", "committed POST /v1/claims")
    claim = {
        "type": "claim.submitted",
        "data": {
            "loan_id": loan_id,
            "outstanding_principal": "100000.00",
            "interest_due": "0.00",
            "submitted_on": (lent_on + timedelta(days=155)).isoformat(),
        },
    }
    filed = signed(url, token, bank["signing_secret"], claim, f"msg_{uuid.uuid4().hex}")
    assert filed.status_code == 200, filed.text
    killed_then_restarted(stack, "guarantee")
    # The gateway files the claim again and gets the same receipt …
    assert until(
        lambda: (
            httpx.get(f"{guarantee}/v1/claims/{loan_id}", headers=staff, timeout=5).status_code
            == 200
        )
    ), "the gateway filed the claim again"
    # … its failed attempt while the guarantee service was down counted.
    metrics = httpx.get(stack.url("bank_gateway") + "/metrics", timeout=5).text
    assert 'gateway_deliveries_total{kind="guarantee",outcome="retry"}' in metrics
    # The fund decides it, and the gateway dies right after recording the decision: the
    # guarantee service sends its notice again.
    arm(stack, "bank_gateway", "committed POST /v1/claim-notices")
    fund_decides(stack, stack_tokens, loan_id)
    killed_then_restarted(stack, "bank_gateway")

    def decided() -> list[dict[str, Any]]:
        return [
            e for e in bank["receiver"].events("claim.decided") if e["data"]["loan_id"] == loan_id
        ]

    assert until(decided, timeout=60), "the notice came again and the bank heard the decision"
    time.sleep(1.0)
    [notice] = decided()
    assert notice["data"]["payout"] == "80000.00"  # 80 % coverage of 100,000
    claims = httpx.get(
        f"{guarantee}/v1/claims?batch_id={batch_id}", headers=staff, timeout=5
    ).json()["items"]
    assert [c["loan_id"] for c in claims] == [loan_id], "one claim, decided once"
    assert until(
        lambda: times_reached(history(stack, stack_tokens, application_id), "compensated") == 1
    )


def test_after_every_fault_the_three_services_agree(
    stack: LocalStack, stack_tokens: Tokens
) -> None:
    """Last of the suite: once the retries are through, the ledger, the fund and the SMEs'
    applications agree on every loan the faults touched — not a fen apart."""
    staff = stack_tokens.header(stack_tokens.bureau("alice"))
    url = stack.url("bank_gateway") + "/v1/reconciliation/three-way"
    reports: list[dict[str, Any]] = []

    def agreed() -> bool:
        reports.append(httpx.get(url, headers=staff, timeout=30).json())
        return reports[-1]["differences"] == []

    assert until(agreed, timeout=90, every=2.0), reports[-1]["differences"]
    assert reports[-1]["loans_checked"] > 0
    totals = reports[-1]["totals"]
    assert totals["ledger_outstanding"] == totals["fund_outstanding"]
    assert totals["ledger_compensation"] == totals["fund_payout"]
