"""The books over real HTTP (issue 15), the bank a process of its own: a loan defaults, the
bank claims with its papers, the fund reviews (four eyes) and pays, the bank recovers and
the fund's share comes back; the period's statement shows the money and the three services
agree to the fen. A claim filed too early and one too late are refused in the policy's words."""

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from deploy.local import LocalStack
from shared.clock import shanghai_today
from tests.bank_gateway.conftest import PDF, REQUIRED_PAPERS
from tests.conftest import Tokens
from tests.e2e.test_bank_flow import (
    bank_token,
    eligible,
    open_batch,
    real_bank,
    signed_post,
    until,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def bank(stack: LocalStack, stack_tokens: Tokens) -> Iterator[dict[str, Any]]:
    with real_bank(stack, stack_tokens, "对账测试银行") as registered:
        yield registered


def event(event_type: str, loan: str, key: str, **data: Any) -> dict[str, Any]:
    return {"id": key, "type": event_type, "data": {"loan_id": loan, **data}}


def lent_and_defaulted(
    stack: LocalStack, tokens: Tokens, bank: dict[str, Any]
) -> tuple[str, dict[str, str], date]:
    """Three loans of ¥2,000,000 lent 199 days ago: A overdue from day 60 and defaulted on
    day 150; B defaulted 10 days ago (claimed too early); C defaulted on day 3 (too late)."""
    applications = eligible(stack, tokens, 3)
    batch_id, loans = open_batch(stack, tokens, bank, applications)
    a, b, c = (loans[app] for _, app in applications)
    lent, today = shanghai_today() - timedelta(days=199), shanghai_today()
    events = []
    for loan in (a, b, c):
        events += [
            event(
                "loan.approved",
                loan,
                f"{loan}-a",
                approved_amount="2000000.00",
                annual_interest_rate="0.0385",
                approved_on=lent.isoformat(),
            ),
            event(
                "loan.disbursed",
                loan,
                f"{loan}-d",
                amount="2000000.00",
                disbursed_on=lent.isoformat(),
                maturity_on=(lent + timedelta(days=365)).isoformat(),
            ),
        ]
    # Interest due within what the contract rate allows by the default.
    for loan, overdue, defaulted, interest in (
        (a, lent + timedelta(days=60), lent + timedelta(days=150), "20000.00"),
        (b, today - timedelta(days=20), today - timedelta(days=10), "20000.00"),
        (c, lent + timedelta(days=1), lent + timedelta(days=3), "500.00"),
    ):
        events += [
            event(
                "loan.overdue",
                loan,
                f"{loan}-o",
                overdue_principal="2000000.00",
                since=overdue.isoformat(),
            ),
            event(
                "loan.defaulted",
                loan,
                f"{loan}-x",
                outstanding_principal="2000000.00",
                interest_due=interest,
                defaulted_on=defaulted.isoformat(),
            ),
        ]
    bulk = signed_post(
        stack.url("bank_gateway") + "/v1/bank/events/bulk",
        bank_token(stack, bank),
        bank["signing_secret"],
        {"events": events},
    )
    assert bulk.json()["applied"] == len(events), bulk.text
    return batch_id, {"a": a, "b": b, "c": c, **{app: uscc for uscc, app in applications}}, lent


def claim(stack: LocalStack, bank: dict[str, Any], loan: str, on: date) -> None:
    sent = signed_post(
        stack.url("bank_gateway") + "/v1/bank/events",
        bank_token(stack, bank),
        bank["signing_secret"],
        {
            "type": "claim.submitted",
            "data": {
                "loan_id": loan,
                "outstanding_principal": "2000000.00",
                "interest_due": "20000.00",
                "submitted_on": on.isoformat(),
            },
        },
    )
    assert sent.status_code == 200, sent.text


def refused(bank: dict[str, Any], loan: str) -> Any:
    return until(
        lambda: [
            e["data"]
            for e in bank["receiver"].events("claim.refused")
            if e["data"]["loan_id"] == loan
        ]
    )


def test_the_books_close_on_a_claim_paid_and_recovered(
    stack: LocalStack, stack_tokens: Tokens, bank: dict[str, Any]
) -> None:
    gateway, guarantee = stack.url("bank_gateway"), stack.url("guarantee")
    batch_id, loans, lent = lent_and_defaulted(stack, stack_tokens, bank)
    a, today = loans["a"], shanghai_today()

    # Too early (10 days after default, 20 overdue) and too late (196 days after default).
    claim(stack, bank, loans["b"], today)
    [early] = refused(bank, loans["b"])
    assert early["problem_type"].endswith("/claim-too-early") and early["may_resubmit"] is True
    assert "90" in early["reason_zh"]
    claim(stack, bank, loans["c"], today)
    [late] = refused(bank, loans["c"])
    assert late["problem_type"].endswith("/claim-too-late") and late["may_resubmit"] is False
    assert "宣布违约之日起 180 天内提出" in late["reason_zh"]

    # A: claimed on day 155, its papers uploaded by the bank through the gateway.
    claim(stack, bank, a, lent + timedelta(days=155))
    dave = stack_tokens.header(stack_tokens.fund("dave"))
    assert until(
        lambda: httpx.get(f"{guarantee}/v1/claims/{a}", headers=dave, timeout=5).status_code == 200
    )
    token = bank_token(stack, bank)
    for kind in REQUIRED_PAPERS:
        kept = httpx.post(
            f"{gateway}/v1/bank/loans/{a}/claim-documents",
            params={"kind": kind, "filename": f"{kind}.pdf"},
            content=PDF + kind.encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/pdf"},
            timeout=10,
        )
        assert kept.status_code == 201, kept.text
    decided = httpx.post(
        f"{guarantee}/v1/claims/{a}/decision", json={"verdict": "approve"}, headers=dave, timeout=10
    ).json()
    assert decided["status"] == "awaiting_second"  # above ¥500,000: a second person
    erin = stack_tokens.header(stack_tokens.fund("erin", approver=True))
    decided = httpx.post(
        f"{guarantee}/v1/claims/{a}/second-review", json={"agree": True}, headers=erin, timeout=10
    ).json()
    payout = decided["payout"]
    # 3 × 2,000,000 filed × 5 % = 300,000: the ceiling cuts the 1,615,400 claimable.
    assert (decided["claimable"], payout) == ("1615400.00", "300000.00")
    paid = httpx.post(
        f"{guarantee}/v1/claims/{a}/payments",
        json={"paid_on": today.isoformat(), "reference": "QPDB-2026-001", "amount": payout},
        headers=dave,
        timeout=10,
    )
    assert paid.status_code == 200, paid.text
    [told] = until(lambda: bank["receiver"].events("claim.paid"))
    assert told["data"]["payment_reference"] == "QPDB-2026-001"

    # The bank recovers ¥100,000 after the payout; the fund's share comes back to it.
    recovered_on = today - timedelta(days=1)
    sent = signed_post(
        gateway + "/v1/bank/events",
        bank_token(stack, bank),
        bank["signing_secret"],
        event(
            "loan.recovered", a, "rec-1", amount="100000.00", recovered_on=recovered_on.isoformat()
        ),
    )
    assert sent.status_code == 200, sent.text
    [share] = until(lambda: bank["receiver"].events("recovery.shared"))
    fund_share = share["data"]["fund_share"]
    assert Decimal(fund_share) > 0

    # The period holding today: the compensation paid, the recovery and the fund's share.
    alice = stack_tokens.header(stack_tokens.bureau("alice"))
    items = httpx.get(f"{gateway}/v1/periods", headers=alice, timeout=30).json()["items"]
    current = next(p for p in items if p["first_day"] <= today.isoformat() <= p["last_day"])
    found = httpx.get(f"{gateway}/v1/periods/{current['key']}", headers=alice, timeout=60).json()
    firm = next(f for f in found["enterprises"] if Decimal(f["compensation_paid"]) > 0)
    assert (firm["compensation_paid"], firm["recovered"]) == (payout, "100000.00")
    assert firm["recovery_to_fund"] == fund_share
    # Each firm's fee of the disbursal's period: in its statement while open — or, if the
    # period was closed before these loans were reported, as adjustments naming it.
    lent_in = next(p for p in items if p["first_day"] <= lent.isoformat() <= p["last_day"])
    firms = {v for k, v in loans.items() if k not in "abc"}
    if lent_in["status"] == "open":
        fees = httpx.get(f"{gateway}/v1/periods/{lent_in['key']}", headers=alice, timeout=60)
        charged = {f["uscc"] for f in fees.json()["enterprises"] if Decimal(f["fee"]) > 0}
    else:
        first_open = next(p for p in items if p["status"] == "open")
        fees = httpx.get(f"{gateway}/v1/periods/{first_open['key']}", headers=alice, timeout=60)
        charged = {
            x["uscc"]
            for x in fees.json()["adjustments"]
            if x["corrects"] == lent_in["key"] and x["kind"] == "fee"
        }
    assert firms <= charged

    # The three services agree on the batch, to the fen, once the notices are through.
    def three_way() -> dict[str, Any]:
        return httpx.get(
            f"{gateway}/v1/reconciliation/three-way",
            params={"batch_id": batch_id},
            headers=alice,
            timeout=30,
        ).json()

    report = until(lambda: (r := three_way())["differences"] == [] and r)
    assert report, three_way()
    assert report["loans_checked"] == 3
    assert report["totals"]["ledger_compensation_paid"] == report["totals"]["fund_paid"] == payout
