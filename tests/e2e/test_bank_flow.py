"""The 政府 + 担保 + 银行 link over real HTTP: a bank as a process of its own receives the
gateway's signed notifications and reports its loans by signed callbacks."""

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest

from deploy.demo_books import signed_headers
from deploy.local import ROOT, LocalStack, free_port
from shared.clock import shanghai_today
from tests.bank_gateway.conftest import PDF, REQUIRED_PAPERS
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


class Receiver:
    """The bank's webhook endpoint as a process of its own, which a test can stop."""

    def __init__(self, port: int, secret: str) -> None:
        self.port, self.secret = port, secret
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.bank_receiver", str(self.port)],
            cwd=ROOT,
            env={**os.environ, "BANK_SIGNING_SECRET": self.secret},
        )
        assert until(lambda: _up(self.url + "/events"), timeout=20), "bank receiver did not start"

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def events(self, event_type: str) -> list[dict[str, Any]]:
        received = httpx.get(self.url + "/events", timeout=5).json()
        assert received["refused"] == 0, "a notification failed the bank's signature check"
        return [e for e in received["events"] if e["type"] == event_type]


@contextmanager
def real_bank(stack: LocalStack, tokens: Tokens, name: str) -> Iterator[dict[str, Any]]:
    """A partner bank registered by the admin, whose webhook endpoint is a real process."""
    port = free_port()
    code = f"e{uuid.uuid4().hex[:8]}"
    registered = httpx.post(
        stack.url("bank_gateway") + "/v1/banks",
        json={"code": code, "name": name, "webhook_url": f"http://127.0.0.1:{port}/hooks"},
        headers=tokens.header(tokens.admin()),
        timeout=10,
    )
    assert registered.status_code == 201, registered.text
    credentials = registered.json()
    receiver = Receiver(port, credentials["signing_secret"])
    receiver.start()
    try:
        yield {"code": code, "url": receiver.url, "receiver": receiver, **credentials}
    finally:
        receiver.stop()


@pytest.fixture
def bank(stack: LocalStack, stack_tokens: Tokens) -> Iterator[dict[str, Any]]:
    with real_bank(stack, stack_tokens, "端到端测试银行") as registered:
        yield registered


def _up(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def signed_post(url: str, token: str, secret: str, payload: Any) -> httpx.Response:
    body = json.dumps(payload, ensure_ascii=False)
    headers = signed_headers(token, secret, body)
    return httpx.post(url, content=body.encode(), headers=headers, timeout=10)


def eligible(stack: LocalStack, stack_tokens: Tokens, count: int) -> list[tuple[str, str]]:
    """(uscc, application id) of ``count`` applications submitted and found eligible."""
    applications = []
    for _ in range(count):
        uscc = make_uscc()
        response = submit(stack, stack_tokens, uscc)
        decided = wait_for_decision(stack, stack_tokens, uscc, response.headers["Location"])
        assert decided["status"] == "eligible"
        applications.append((uscc, decided["id"]))
    return applications


def open_batch(
    stack: LocalStack,
    stack_tokens: Tokens,
    bank: dict[str, Any],
    applications: list[tuple[str, str]],
) -> tuple[str, dict[str, str]]:
    """Drafted by alice, approved by carol, opened: (batch id, application → loan id as the
    bank heard it in batch.opened)."""
    gateway = stack.url("bank_gateway")
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
            # Open for a year already: the lives below began up to 199 days ago.
            "valid_from": (today - timedelta(days=365)).isoformat(),
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
    [notice] = until(
        lambda: [
            e
            for e in bank["receiver"].events("batch.opened")
            if e["data"]["batch_id"] == batch["id"]
        ]
    )
    loans = {loan["application_id"]: loan["loan_id"] for loan in notice["data"]["loans"]}
    assert set(loans) == {a for _, a in applications}
    return batch["id"], loans


def bank_token(stack: LocalStack, bank: dict[str, Any]) -> str:
    return httpx.post(
        stack.url("bank_gateway") + "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(bank["client_id"], bank["client_secret"]),
        timeout=10,
    ).json()["access_token"]


def sme_status(stack: LocalStack, stack_tokens: Tokens, uscc: str, application_id: str) -> str:
    return httpx.get(
        f"{stack.url('loan_intake')}/v1/applications/{application_id}",
        headers=stack_tokens.header(stack_tokens.sme(uscc)),
        timeout=5,
    ).json()["status"]


def test_batch_opened_to_a_real_bank_which_reports_back(
    stack: LocalStack, stack_tokens: Tokens, bank: dict[str, Any]
) -> None:
    gateway, intake = stack.url("bank_gateway"), stack.url("loan_intake")
    applications = eligible(stack, stack_tokens, 2)
    _, loans = open_batch(stack, stack_tokens, bank, applications)
    today = shanghai_today()

    def status(uscc: str, application_id: str) -> str:
        return sme_status(stack, stack_tokens, uscc, application_id)

    for uscc, application_id in applications:
        assert until(lambda u=uscc, a=application_id: status(u, a) == "allocated")

    token = bank_token(stack, bank)
    first, second = applications
    lent_on = today - timedelta(days=45)  # banks report what has happened: dates in the past
    approved = {
        "approved_amount": "2000000.00",
        "annual_interest_rate": "0.0385",
        "approved_on": lent_on.isoformat(),
    }
    disbursed = {
        "amount": "2000000.00",
        "disbursed_on": lent_on.isoformat(),
        "maturity_on": (lent_on + timedelta(days=365)).isoformat(),
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
                        "paid_on": (lent_on + timedelta(days=30)).isoformat(),
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
    assert "剩余本金 ¥1,800,000.00" in history[-1]["reason"]


def defaulted_loan(
    stack: LocalStack, stack_tokens: Tokens, bank: dict[str, Any]
) -> tuple[str, str, str, str]:
    """Two loans of ¥2,000,000 lent by ``bank`` 199 days ago in a batch of their own, the
    first overdue since day 60 and defaulted on day 150 (¥20,000 of interest due):
    (batch id, loan id, its firm's USCC, its application id)."""
    gateway = stack.url("bank_gateway")
    applications = eligible(stack, stack_tokens, 2)
    batch_id, loans = open_batch(stack, stack_tokens, bank, applications)
    lent_on = shanghai_today() - timedelta(days=199)
    token = bank_token(stack, bank)
    events = []
    for loan in loans.values():
        events += [
            {
                "id": f"{loan}-a",
                "type": "loan.approved",
                "data": {
                    "loan_id": loan,
                    "approved_amount": "2000000.00",
                    "annual_interest_rate": "0.0385",
                    "approved_on": lent_on.isoformat(),
                },
            },
            {
                "id": f"{loan}-d",
                "type": "loan.disbursed",
                "data": {
                    "loan_id": loan,
                    "amount": "2000000.00",
                    "disbursed_on": lent_on.isoformat(),
                    "maturity_on": (lent_on + timedelta(days=365)).isoformat(),
                },
            },
        ]
    (uscc, application_id), _ = applications
    loan = loans[application_id]
    events += [
        {
            "id": f"{loan}-o",
            "type": "loan.overdue",
            "data": {
                "loan_id": loan,
                "overdue_principal": "2000000.00",
                "since": (lent_on + timedelta(days=60)).isoformat(),
            },
        },
        {
            "id": f"{loan}-x",
            "type": "loan.defaulted",
            "data": {
                "loan_id": loan,
                "outstanding_principal": "2000000.00",
                "interest_due": "20000.00",
                "defaulted_on": (lent_on + timedelta(days=150)).isoformat(),
            },
        },
    ]
    bulk = signed_post(
        gateway + "/v1/bank/events/bulk", token, bank["signing_secret"], {"events": events}
    )
    assert bulk.json()["applied"] == len(events), bulk.text

    return batch_id, loan, uscc, application_id


def file_claim(stack: LocalStack, bank: dict[str, Any], loan: str) -> None:
    """The bank claims on the defaulted loan, on day 155 (95 days overdue)."""
    lent_on = shanghai_today() - timedelta(days=199)
    gateway = stack.url("bank_gateway")
    claim = signed_post(
        gateway + "/v1/bank/events",
        bank_token(stack, bank),
        bank["signing_secret"],
        {
            "type": "claim.submitted",
            "data": {
                "loan_id": loan,
                "outstanding_principal": "2000000.00",
                "interest_due": "20000.00",
                "submitted_on": (lent_on + timedelta(days=155)).isoformat(),
            },
        },
    )
    assert claim.status_code == 200, claim.text


def fund_decides(
    stack: LocalStack, tokens: Tokens, loan: str, verdict: str = "approve"
) -> dict[str, Any]:
    """Once the claim has reached the guarantee service, the fund's reviewer decides it over
    HTTP — and a second person confirms it when the policy asks; the claim as it stands."""
    guarantee = stack.url("guarantee")
    dave = tokens.header(tokens.fund("dave"))
    assert until(
        lambda: (
            httpx.get(f"{guarantee}/v1/claims/{loan}", headers=dave, timeout=5).status_code == 200
        )
    ), "the claim reached the fund"
    gateway = tokens.header(tokens.service("bank_gateway"))
    for kind in REQUIRED_PAPERS:  # as the gateway passes the bank's papers on
        kept = httpx.post(
            f"{guarantee}/v1/claims/{loan}/documents",
            params={"kind": kind, "filename": f"{kind}.pdf"},
            content=PDF,
            headers={**gateway, "Content-Type": "application/pdf"},
            timeout=10,
        )
        assert kept.status_code in (200, 201), kept.text
    decided = httpx.post(
        f"{guarantee}/v1/claims/{loan}/decision",
        json={"verdict": verdict},
        headers=dave,
        timeout=10,
    )
    assert decided.status_code == 200, decided.text
    if decided.json()["status"] == "awaiting_second":
        erin = tokens.header(tokens.fund("erin", approver=True))
        decided = httpx.post(
            f"{guarantee}/v1/claims/{loan}/second-review",
            json={"agree": True},
            headers=erin,
            timeout=10,
        )
        assert decided.status_code == 200, decided.text
    return decided.json()


def test_a_claim_at_the_ceiling_reaches_the_bank_across_a_gateway_crash(
    stack: LocalStack, stack_tokens: Tokens, bank: dict[str, Any]
) -> None:
    """The bank is down when the fund decides its claim; the gateway is SIGKILLed with the
    notification pending; after both come back the bank gets claim.decided, once, signed."""
    gateway = stack.url("bank_gateway")
    batch_id, loan, uscc, application_id = defaulted_loan(stack, stack_tokens, bank)
    receiver: Receiver = bank["receiver"]
    receiver.stop()
    file_claim(stack, bank, loan)
    fund_decides(stack, stack_tokens, loan)
    staff = stack_tokens.header(stack_tokens.bureau("alice"))

    def decided_but_not_delivered() -> bool:
        risk = httpx.get(f"{gateway}/v1/batches/{batch_id}/risk", headers=staff, timeout=5)
        pending = httpx.get(
            f"{gateway}/v1/deliveries?status=pending&bank={bank['code']}", headers=staff, timeout=5
        ).json()["items"]
        return risk.json()["compensation_paid"] != "0.00" and any(
            d["event_type"] == "claim.decided" and d["attempts"] > 0 for d in pending
        )

    assert until(decided_but_not_delivered), "the fund's decision did not wait for the bank"
    stack.stop("bank_gateway", kill=True)  # SIGKILL, the notification still pending
    stack.start("bank_gateway")
    receiver.start()

    # A row the killed worker had leased waits out its lease (60 s), then its backoff.
    [decided] = until(lambda: receiver.events("claim.decided"), timeout=90)
    # 4,000,000 guaranteed × 5 % = 200,000: the 80 % claim on 2,000,000 + interest (20,000
    # due, counted for at most 90 days at 3.85 %: 19,250) is paid up to the ceiling only.
    assert decided["data"]["loan_id"] == loan
    assert decided["data"]["outcome"] == "partially_paid"
    assert (decided["data"]["claimable"], decided["data"]["payout"]) == ("1615400.00", "200000.00")
    assert "待批次备案本金增加" in decided["data"]["reasons"][-1]["message_zh"]
    assert until(lambda: sme_status(stack, stack_tokens, uscc, application_id) == "compensated")
    time.sleep(1)  # a second delivery, if there were one, would have arrived by now
    assert len(receiver.events("claim.decided")) == 1


def test_a_banks_own_loan_guaranteed_checked_and_released_early(
    stack: LocalStack, stack_tokens: Tokens, bank: dict[str, Any]
) -> None:
    """见贷即保 over real HTTP: the bank files a loan for a firm that never used the portal
    (guaranteed) and one the fund finds ineligible (refused with its findings); implausible
    interest on the guaranteed loan is refused; settled 28 days after disbursal, the loan's
    guarantee is released and billed 28 days of fee, nothing after."""
    gateway, fund = stack.url("bank_gateway"), stack.url("guarantee")
    batch_id, _ = open_batch(stack, stack_tokens, bank, eligible(stack, stack_tokens, 1))
    token, secret = bank_token(stack, bank), bank["signing_secret"]
    bureau = stack_tokens.header(stack_tokens.bureau("alice"))
    lent_on = shanghai_today() - timedelta(days=60)
    firm = make_uscc()

    def filing(uscc: str, reference: str, district: str = "青浦区") -> dict[str, Any]:
        return {
            "reference": reference,
            "batch_id": batch_id,
            "enterprise": {
                "name": "上海青浦见贷即保测试有限公司",
                "uscc": uscc,
                "registered_district": district,
                "sector": "C39",
                "employees": 60,
                "annual_revenue": "15000000.00",
                "total_assets": "9000000.00",
                "established_on": "2017-05-01",
                "flags": {},
            },
            "loan": {
                "amount": "2000000.00",
                "term_months": 12,
                "purpose": "补充流动资金",
                "annual_interest_rate": "0.0385",
                "approved_on": lent_on.isoformat(),
                "disbursed_on": lent_on.isoformat(),
                "maturity_on": (lent_on + timedelta(days=365)).isoformat(),
            },
        }

    filed = signed_post(gateway + "/v1/bank/filings", token, secret, filing(firm, f"E2E-{firm}"))
    assert filed.status_code == 201, filed.text
    loan_id = filed.json()["loan_id"]

    def guarantee() -> dict[str, Any] | None:
        found = httpx.get(f"{fund}/v1/guarantees/{loan_id}", headers=bureau, timeout=5)
        return found.json() if found.status_code == 200 else None

    issued = until(guarantee)
    assert issued and issued["enterprise_uscc"] == firm and issued["principal"] == "2000000.00"

    elsewhere = filing(make_uscc(), "E2E-SONGJIANG", district="松江区")
    refused = signed_post(gateway + "/v1/bank/filings", token, secret, elsewhere)
    assert (refused.status_code, refused.json()["type"]) == (422, "/problems/filing-ineligible")
    assert "企业注册地为松江区，不在青浦区" in refused.json()["detail"]

    settled_on = lent_on + timedelta(days=28)
    greedy = {
        "loan_id": loan_id,
        "principal": "2000000.00",
        "interest": "50000000.00",
        "paid_on": settled_on.isoformat(),
    }
    implausible = signed_post(
        gateway + "/v1/bank/events", token, secret, {"type": "loan.repayment", "data": greedy}
    )
    assert (implausible.status_code, implausible.json()["type"]) == (
        422,
        "/problems/interest-implausible",
    )
    assert "超过按合同利率可计的上限" in implausible.json()["detail"]
    settled = {
        "loan_id": loan_id,
        "settled_on": settled_on.isoformat(),
        "interest_paid_total": "5000.00",
    }
    for kind, data in (
        ("loan.repayment", {**greedy, "interest": "5000.00"}),
        ("loan.settled", settled),
    ):
        answer = signed_post(
            gateway + "/v1/bank/events", token, secret, {"type": kind, "data": data}
        )
        assert answer.status_code == 200, answer.text
    released = until(lambda: (g := guarantee()) and g["released_on"] and g)
    assert released["released_on"] == settled_on.isoformat()
    [only] = released["schedule"]
    # 2,000,000 × 0.5 % × 28 / 360 = 777.78: nothing billed for the rest of the year
    assert (only["days"], only["fee"], released["fee"]) == (28, "777.78", "777.78")
    assert released["outstanding"] == "0.00"
