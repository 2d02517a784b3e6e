"""Signed bank callbacks drive the loan ledger; the SME sees each change."""

import base64
import json
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from standardwebhooks import Webhook

from services.bank_gateway.notifications.repository import QUEUE
from shared.clock import shanghai_today
from shared.jobs import Worker
from tests.bank_gateway.batches.test_opening import application_status, open_batch_with
from tests.bank_gateway.conftest import Desk


class Bank:
    """A partner bank's client: OAuth token, Standard Webhooks signatures."""

    def __init__(self, desk: Desk, code: str) -> None:
        self.desk, self.code = desk, code
        self.client_id, self.client_secret, self.secret = desk.credentials[code]
        self.token = ""

    async def sign_in(self) -> None:
        response = await self.desk.gateway.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self.client_secret,
            },
        )
        self.token = response.json()["access_token"]

    async def send(
        self,
        payload: Any,
        *,
        path: str = "/v1/bank/events",
        msg_id: str | None = None,
        when: datetime | None = None,
        secret: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        body = json.dumps(payload, ensure_ascii=False)
        return await self.send_raw(
            body, path=path, msg_id=msg_id, when=when, secret=secret, headers=headers
        )

    async def send_raw(
        self,
        body: str,
        *,
        path: str = "/v1/bank/events",
        msg_id: str | None = None,
        when: datetime | None = None,
        secret: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """A body signed as it is (any text, JSON or not)."""
        msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
        when = when or datetime.now(UTC)
        signed = {
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(when.timestamp())),
            "webhook-signature": Webhook(secret or self.secret).sign(msg_id, when, body),
        }
        return await self.desk.gateway.post(
            path,
            content=body.encode(),
            headers={
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json",
                **signed,
                **(headers or {}),
            },
        )


def event(event_type: str, loan_id: str, **data: Any) -> dict[str, Any]:
    return {"type": event_type, "data": {"loan_id": loan_id, **data}}


APPROVED = {
    "approved_amount": "2000000.00",
    "annual_interest_rate": "0.0385",
    "approved_on": "2022-11-26",
}
DISBURSED = {"amount": "2000000.00", "disbursed_on": "2022-11-27", "maturity_on": "2023-11-27"}


def repayment(
    principal: str, interest: str = "6400.00", paid_on: str = "2022-12-27"
) -> dict[str, str]:
    """A repayment a month after DISBURSED: 6,400.00 is within a month's interest on
    2,000,000 at 3.85 % (6,416.67); another on the same day pays principal only."""
    return {"principal": principal, "interest": interest, "paid_on": paid_on}


async def bank_with_loans(
    desk: Desk, count: int, **overrides: Any
) -> tuple[Bank, list[dict[str, Any]]]:
    """A new bank with an open batch of ``count`` loans (applications as ``overrides`` say)."""
    code = await desk.register_bank()
    await open_batch_with(desk, code, await desk.eligible_applications(count, **overrides))
    await desk.deliver()
    bank = Bank(desk, code)
    await bank.sign_in()
    [opened] = [e for e in desk.bank.of_type("batch.opened")][-1:]
    return bank, opened["data"]["loans"]


async def test_a_loan_from_approval_to_settlement(desk: Desk) -> None:
    bank, [loan] = await bank_with_loans(desk, 1)
    loan_id = loan["loan_id"]
    for kind, data, state in [
        ("loan.approved", APPROVED, "approved"),
        ("loan.disbursed", DISBURSED, "disbursed"),
        ("loan.repayment", repayment("500000.00"), "repaying"),
        ("loan.repayment", repayment("1500000.00", "4800.00", "2023-01-27"), "repaying"),
        (
            "loan.settled",
            {"settled_on": "2023-01-27", "interest_paid_total": "11200.00"},
            "settled",
        ),
    ]:
        response = await bank.send(event(kind, loan_id, **data))
        assert response.status_code == 200, response.text
        assert response.json()["loan_state"] == state
    await desk.deliver()
    application = await application_status(desk, loan["application_id"])
    assert application["status"] == "settled"
    steps = [(h["to_status"], h["reason"]) for h in application["history"]][-6:]
    assert [s for s, _ in steps] == [
        "allocated",
        "approved",
        "disbursed",
        "repaying",
        "repaying",
        "settled",
    ]
    assert "剩余本金 ¥1,500,000.00" in steps[3][1]
    assert application["history"][-3]["details"]["outstanding"] == "1500000.00"


class Woken(Worker):
    """Stands in the place of the outbox's worker: counts the wake-ups it is sent."""

    queue = QUEUE

    def __init__(self) -> None:
        self.times = 0

    def wake(self) -> None:
        self.times += 1

    async def step(self) -> int:
        return 0


async def test_an_applied_event_wakes_the_outbox_once_it_is_committed(desk: Desk) -> None:
    bank, [loan] = await bank_with_loans(desk, 1)
    woken = Woken()
    desk.app.state.wakeups.register(woken)
    try:
        applied = await bank.send(event("loan.approved", loan["loan_id"], **APPROVED))
        assert applied.status_code == 200
        assert woken.times == 1  # the SME's status page is due an update: sent without delay
        refused = await bank.send(event("loan.approved", loan["loan_id"], **APPROVED))
        assert refused.status_code == 409
        assert woken.times == 1  # nothing new for anyone
    finally:
        desk.app.state.wakeups.unregister(woken)


async def test_a_repeated_webhook_id_gets_the_same_answer_and_no_second_effect(
    desk: Desk,
) -> None:
    bank, [loan] = await bank_with_loans(desk, 1)
    loan_id = loan["loan_id"]
    await bank.send(event("loan.approved", loan_id, **APPROVED))
    await bank.send(event("loan.disbursed", loan_id, **DISBURSED))
    payment = event("loan.repayment", loan_id, **repayment("300000.00"))
    first = await bank.send(payment, msg_id="msg_pay_1")
    again = await bank.send(payment, msg_id="msg_pay_1")
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    too_much = await bank.send(event("loan.repayment", loan_id, **repayment("1700000.01")))
    assert too_much.status_code == 422
    assert too_much.json()["type"] == "/problems/repayment-exceeds-outstanding"
    exact = await bank.send(event("loan.repayment", loan_id, **repayment("1700000.00", "0.00")))
    assert exact.status_code == 200  # 2,000,000 − 300,000 once, not twice


async def test_a_key_reused_for_another_event_is_refused_and_changes_nothing(desk: Desk) -> None:
    bank, [loan] = await bank_with_loans(desk, 1)
    loan_id = loan["loan_id"]
    await bank.send(event("loan.approved", loan_id, **APPROVED))
    await bank.send(event("loan.disbursed", loan_id, **DISBURSED))
    first = await bank.send(event("loan.repayment", loan_id, **repayment("300000.00")), msg_id="k1")
    assert first.status_code == 200
    other = event("loan.repayment", loan_id, **repayment("500000.00"))
    reused = await bank.send(other, msg_id="k1")
    assert reused.status_code == 409
    assert reused.headers["content-type"] == "application/problem+json"
    assert reused.json()["type"] == "/problems/event-key-reused"
    # The first event stands; the second was not taken: 2,000,000 − 300,000 outstanding.
    again = await bank.send(event("loan.repayment", loan_id, **repayment("300000.00")), msg_id="k1")
    assert (again.status_code, again.json()) == (200, first.json())

    # In bulk each event on its own: a key reused within the request, or from before.
    mixed = [
        {"id": "b1", **event("loan.repayment", loan_id, **repayment("100000.00", "0.00"))},
        {"id": "b1", **event("loan.repayment", loan_id, **repayment("999.00"))},
        {"id": "k1", **other},
        {"id": "b2", **event("loan.repayment", loan_id, **repayment("100000.00", "0.00"))},
    ]
    result = (await bank.send({"events": mixed}, path="/v1/bank/events/bulk")).json()
    assert [(r["status"], (r["problem"] or {}).get("type")) for r in result["results"]] == [
        ("applied", None),
        ("refused", "/problems/event-key-reused"),
        ("refused", "/problems/event-key-reused"),
        ("applied", None),
    ]
    assert result["results"][3]["loan_state"] == "repaying"
    statement = await desk.gateway.post(
        "/v1/bank/reconciliations",
        json={
            "as_of": "2022-12-01",
            "loans": [{"loan_id": loan_id, "state": "repaying", "outstanding": "1500000.00"}],
        },
        headers={"Authorization": f"Bearer {bank.token}"},
    )
    assert statement.json()["mismatches"] == []


async def test_events_ahead_of_their_predecessor_are_held_then_applied(desk: Desk) -> None:
    bank, [loan] = await bank_with_loans(desk, 1)
    loan_id = loan["loan_id"]
    early_payment = await bank.send(event("loan.repayment", loan_id, **repayment("100000.00")))
    assert early_payment.status_code == 202
    assert early_payment.json()["status"] == "held"
    early_disbursal = await bank.send(event("loan.disbursed", loan_id, **DISBURSED))
    assert early_disbursal.status_code == 202
    approved = await bank.send(event("loan.approved", loan_id, **APPROVED))
    assert approved.status_code == 200
    # Approval released the disbursal, which released the repayment.
    assert approved.json()["loan_state"] == "repaying"
    await desk.deliver()
    application = await application_status(desk, loan["application_id"])
    assert [h["to_status"] for h in application["history"]][-3:] == [
        "approved",
        "disbursed",
        "repaying",
    ]


async def test_events_that_can_never_apply_are_refused(desk: Desk) -> None:
    bank, [declined, active] = await bank_with_loans(desk, 2)
    no = await bank.send(
        event("loan.declined", declined["loan_id"], reason="资料不全", declined_on="2022-11-26")
    )
    assert no.status_code == 200
    late = await bank.send(event("loan.repayment", declined["loan_id"], **repayment("1.00")))
    assert late.status_code == 409
    assert late.json()["type"] == "/problems/event-not-applicable"
    await bank.send(event("loan.approved", active["loan_id"], **APPROVED))
    await bank.send(event("loan.disbursed", active["loan_id"], **DISBURSED))
    # A settlement ahead of the last repayment waits for it (held), rather than being refused.
    early_settle = await bank.send(
        event(
            "loan.settled",
            active["loan_id"],
            settled_on="2023-01-01",
            interest_paid_total="6400.00",
        )
    )
    assert early_settle.status_code == 202
    paid = await bank.send(event("loan.repayment", active["loan_id"], **repayment("2000000.00")))
    assert paid.json()["loan_state"] == "settled"
    wrong = await bank.send(
        event(
            "loan.settled", active["loan_id"], settled_on="2023-01-01", interest_paid_total="1.00"
        )
    )
    assert wrong.status_code == 409  # already settled
    over = await bank.send(event("loan.approved", active["loan_id"], **APPROVED))
    assert over.status_code == 409
    malformed = await bank.send(event("loan.disbursed", active["loan_id"], amount=12.5))
    assert malformed.status_code == 422
    assert malformed.json()["type"] == "/problems/event-invalid"


async def test_forged_stale_malformed_and_other_banks_are_refused(desk: Desk) -> None:
    bank, [loan] = await bank_with_loans(desk, 1)
    other, _ = await bank_with_loans(desk, 1)
    body = event("loan.approved", loan["loan_id"], **APPROVED)
    forged = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    for response in [
        await bank.send(body, secret=forged),
        await bank.send(body, when=datetime.now(UTC) - timedelta(minutes=6)),
        await bank.send(body, when=datetime.now(UTC) + timedelta(minutes=6)),
        await bank.send(body, headers={"webhook-signature": "v1,not-base64!!"}),
        await bank.send(body, headers={"webhook-signature": ""}),
        await bank.send(body, headers={"webhook-timestamp": "yesterday"}),
    ]:
        assert response.status_code == 401, response.text
        assert response.json()["type"] == "/problems/signature-invalid"
    # Signed correctly by another bank, about this bank's loan: it does not exist for it.
    foreign = await other.send(body)
    assert foreign.status_code == 404
    assert foreign.json()["type"] == "/problems/loan-not-found"
    unsigned_in = await desk.gateway.post(
        "/v1/bank/events", json=body, headers={"Authorization": f"Bearer {bank.token}"}
    )
    assert unsigned_in.status_code == 401
    bureau = await desk.gateway.post(
        "/v1/bank/events", json=body, headers=desk.tokens.header(desk.tokens.bureau())
    )
    assert bureau.status_code == 403
    # Nothing of it reached the ledger: the real approval still applies.
    assert (await bank.send(body)).status_code == 200


async def test_bulk_events_each_get_their_own_answer(desk: Desk) -> None:
    bank, loans = await bank_with_loans(desk, 3)
    a, b, c = (loan["loan_id"] for loan in loans)
    events = [
        {"id": "e1", **event("loan.approved", a, **APPROVED)},
        {"id": "e2", **event("loan.disbursed", a, **DISBURSED)},
        {"id": "e3", **event("loan.repayment", b, **repayment("1.00"))},  # held: b not disbursed
        {
            "id": "e4",
            **event(
                "loan.approved",
                c,
                approved_amount="9999999.00",
                annual_interest_rate="0.04",
                approved_on="2022-11-26",
            ),
        },
        {"id": "e5", **event("loan.approved", str(uuid.uuid4()), **APPROVED)},
        {"id": "e6", "type": "loan.exploded", "data": {"loan_id": a}},
    ]
    response = await bank.send({"events": events}, path="/v1/bank/events/bulk")
    assert response.status_code == 200, response.text
    result = response.json()
    statuses = {r["id"]: (r["status"], (r["problem"] or {}).get("type")) for r in result["results"]}
    assert statuses == {
        "e1": ("applied", None),
        "e2": ("applied", None),
        "e3": ("held", None),
        "e4": ("refused", "/problems/amount-exceeds-allocation"),
        "e5": ("refused", "/problems/loan-not-found"),
        "e6": ("refused", "/problems/event-invalid"),
    }
    assert (result["applied"], result["held"], result["refused"]) == (2, 1, 3)
    again = await bank.send({"events": events}, path="/v1/bank/events/bulk")
    assert again.json()["results"] == result["results"]
    no_ids = await bank.send(
        {"events": [event("loan.approved", a, **APPROVED)]}, path="/v1/bank/events/bulk"
    )
    assert no_ids.status_code == 422
    too_many = await bank.send(
        {"events": [{"id": f"x{i}", **event("loan.approved", a, **APPROVED)} for i in range(1001)]},
        path="/v1/bank/events/bulk",
    )
    assert too_many.status_code == 422


async def test_the_openapi_document_gives_each_event_its_own_data_schema(desk: Desk) -> None:
    document = (await desk.gateway.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]
    for path in ("/v1/bank/events", "/v1/bank/events/bulk"):
        body = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        one = (
            body["schema"]
            if path.endswith("events")
            else body["schema"]["properties"]["events"]["items"]
        )
        mapping = one["discriminator"]["mapping"]
        assert one["discriminator"]["propertyName"] == "type"
        assert set(mapping) == {
            "loan.approved",
            "loan.declined",
            "loan.disbursed",
            "loan.repayment",
            "loan.overdue",
            "loan.defaulted",
            "claim.submitted",
            "loan.recovered",
            "loan.settled",
        }
    repayment_event = schemas["LoanRepaymentEvent"]
    assert repayment_event["properties"]["type"]["const"] == "loan.repayment"
    data = schemas[repayment_event["properties"]["data"]["$ref"].rsplit("/", 1)[1]]
    assert set(data["required"]) == {"loan_id", "principal", "interest", "paid_on"}
    assert data["additionalProperties"] is False


async def test_figures_a_loan_cannot_have_are_refused_and_change_nothing(desk: Desk) -> None:
    """Seen from outside: ¥50,000,000 of interest on ¥2,000,000 at 4 %, a maturity in 2099
    on a 12-month loan, a disbursal before its approval, a repayment dated 1900 or
    tomorrow. Each is refused with the figure and its bound; in a bulk, each on its own."""
    bank, [loan] = await bank_with_loans(desk, 1)
    loan_id = loan["loan_id"]
    await bank.send(event("loan.approved", loan_id, **{**APPROVED, "annual_interest_rate": "0.04"}))
    early = await bank.send(
        event("loan.disbursed", loan_id, **{**DISBURSED, "disbursed_on": "2022-11-25"})
    )
    assert early.status_code == 422 and early.json()["type"] == "/problems/date-implausible"
    assert "放款日 2022-11-25 早于批准日 2022-11-26" in early.json()["detail"]
    far = await bank.send(
        event("loan.disbursed", loan_id, **{**DISBURSED, "maturity_on": "2099-12-31"})
    )
    assert far.status_code == 422 and far.json()["type"] == "/problems/maturity-beyond-term"
    assert (await bank.send(event("loan.disbursed", loan_id, **DISBURSED))).status_code == 200

    tomorrow = (shanghai_today() + timedelta(days=1)).isoformat()
    sent = [
        {
            "id": "huge",
            **event(
                "loan.repayment",
                loan_id,
                principal="0.00",
                interest="50000000.00",
                paid_on="2022-12-27",
            ),
        },
        {
            "id": "1900",
            **event(
                "loan.repayment", loan_id, principal="1.00", interest="0.00", paid_on="1900-01-01"
            ),
        },
        {
            "id": "next",
            **event("loan.repayment", loan_id, principal="1.00", interest="0.00", paid_on=tomorrow),
        },
        {
            "id": "fair",
            **event(
                "loan.repayment",
                loan_id,
                principal="0.00",
                interest="6666.67",
                paid_on="2022-12-27",
            ),
        },
    ]
    result = (await bank.send({"events": sent}, path="/v1/bank/events/bulk")).json()
    outcomes = [(r["status"], (r["problem"] or {}).get("type")) for r in result["results"]]
    assert outcomes == [
        ("refused", "/problems/interest-implausible"),
        ("refused", "/problems/date-implausible"),
        ("refused", "/problems/date-implausible"),
        ("applied", None),
    ]
    # 2,000,000 × 4 % × 30 / 360 = 6,666.67
    assert result["results"][0]["problem"]["detail"].startswith(
        "利息 50,000,000.00 超过按合同利率可计的上限 6,666.67"
    )
    statement = await desk.gateway.post(
        "/v1/bank/reconciliations",
        json={
            "as_of": "2022-12-28",
            "loans": [{"loan_id": loan_id, "state": "repaying", "outstanding": "2000000.00"}],
        },
        headers={"Authorization": f"Bearer {bank.token}"},
    )
    assert statement.json()["mismatches"] == []  # nothing refused moved the ledger
