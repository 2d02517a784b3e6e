"""A bank's statement against the ledger: mismatches, unknown loans, events still owed."""

import uuid
from datetime import timedelta

from shared.clock import shanghai_today
from tests.bank_gateway.conftest import Desk
from tests.bank_gateway.ledger.test_events import (
    APPROVED,
    DISBURSED,
    bank_with_loans,
    event,
    repayment,
)


async def test_reconciliation_lists_every_difference(desk: Desk) -> None:
    bank, loans = await bank_with_loans(desk, 3)
    a, b, c = (loan["loan_id"] for loan in loans)
    for kind, data in (("loan.approved", APPROVED), ("loan.disbursed", DISBURSED)):
        await bank.send(event(kind, a, **data))
    await bank.send(event("loan.repayment", a, **repayment("100000.00")))
    await bank.send(event("loan.approved", b, **APPROVED))
    held = await bank.send(event("loan.repayment", c, **repayment("1.00")))
    assert held.status_code == 202
    stranger = str(uuid.uuid4())
    as_of = shanghai_today() + timedelta(days=40)
    response = await desk.gateway.post(
        "/v1/bank/reconciliations",
        json={
            "as_of": as_of.isoformat(),
            "loans": [
                {"loan_id": a, "state": "repaying", "outstanding": "1900000.00"},
                {"loan_id": b, "state": "disbursed", "outstanding": "2000000.00"},
                {"loan_id": stranger, "state": "repaying", "outstanding": "1.00"},
            ],
        },
        headers={"Authorization": f"Bearer {bank.token}"},
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["checked"], report["matched"]) == (3, 1)
    assert {(m["loan_id"], m["field"], m["bank"], m["gateway"]) for m in report["mismatches"]} == {
        (b, "state", "disbursed", "approved"),
        (b, "outstanding", "2000000.00", "0.00"),
    }
    assert report["unknown_loans"] == [stranger]
    assert report["missing_from_statement"] == []
    owed = {(m["loan_id"], m["code"]) for m in report["missing_events"]}
    assert owed == {(b, "approved_not_disbursed"), (a, "no_repayment_report")}
    assert report["waiting_events"] == {c: 1}

    left_out = await desk.gateway.post(
        "/v1/bank/reconciliations",
        json={"as_of": shanghai_today().isoformat(), "loans": []},
        headers={"Authorization": f"Bearer {bank.token}"},
    )
    assert set(left_out.json()["missing_from_statement"]) == {a, b}
    assert left_out.json()["missing_events"] == []
    bureau = await desk.gateway.post(
        "/v1/bank/reconciliations",
        json={"as_of": shanghai_today().isoformat(), "loans": []},
        headers=desk.tokens.header(desk.tokens.bureau()),
    )
    assert bureau.status_code == 403


async def test_the_banks_money_is_compared_line_by_line_and_in_total(desk: Desk) -> None:
    """Item 5 of issue 15: principal repaid, interest received, compensation received from
    the fund, recoveries and the fund's share, each against the ledger."""
    from tests.bank_gateway.ledger.test_claims import claim, default, disbursed_loans
    from tests.bank_gateway.periods.test_periods import collect

    bank, (a, b), _ = await disbursed_loans(desk, 2)
    await bank.send(event("loan.repayment", a, **repayment("1900000.00", "3000.00")))
    await default(bank, a, "100000.00")
    await bank.send(claim(a, "100000.00", "0.00"))
    await desk.deliver()
    await desk.decide_claim(a)  # 80,000 decided …
    paid = await desk.guarantee_pay(a, "80000.00")  # … and paid to the bank
    assert paid["status"] == "paid"
    await bank.send(event("loan.recovered", a, amount="10000.00", recovered_on="2023-08-01"))
    await desk.deliver()
    # The fund recorded b's fee received; the bank says it collected it (and a's, unrecorded).
    assert (await collect(desk, b, "2000.00", "2022-11-28", "SK-R1")).status_code == 201
    statement = {
        "as_of": shanghai_today().isoformat(),
        "loans": [
            {
                "loan_id": a,
                "state": "recovering",
                "outstanding": "100000.00",
                "principal_repaid": "1900000.00",
                "interest_received": "3000.00",
                "compensation_received": "80000.00",
                "recovered": "10000.00",
                "recoveries_to_fund": "7000.00",  # ours: 80 % of 10,000 = 8,000
                "fees_collected": "500.00",  # the fund recorded none
            },
            {
                "loan_id": b,
                "state": "disbursed",
                "outstanding": "2000000.00",
                "interest_received": "0.01",  # nothing received yet by the ledger
                "fees_collected": "2000.00",
            },
        ],
    }
    report = (
        await desk.gateway.post(
            "/v1/bank/reconciliations",
            json=statement,
            headers={"Authorization": f"Bearer {bank.token}"},
        )
    ).json()
    assert {(m["loan_id"], m["field"], m["bank"], m["gateway"]) for m in report["mismatches"]} == {
        (a, "recoveries_to_fund", "7000.00", "8000.00"),
        (b, "interest_received", "0.01", "0.00"),
        (a, "fees_collected", "500.00", "0.00"),
    }
    [share] = [m for m in report["mismatches"] if m["field"] == "recoveries_to_fund"]
    assert share["message"] == "应归担保基金的追偿分成：银行报 ¥7,000.00，台账 ¥8,000.00"
    totals = {t["field"]: (t["lines"], t["bank"], t["gateway"]) for t in report["money_totals"]}
    assert totals["interest_received"] == (2, "3000.01", "3000.00")
    assert totals["compensation_received"] == (1, "80000.00", "80000.00")
    assert totals["fees_collected"] == (2, "2500.00", "2000.00")
    [fees] = [m for m in report["mismatches"] if m["field"] == "fees_collected"]
    assert fees["message"] == "担保费实收：银行报 ¥500.00，担保基金登记 ¥0.00"
    assert report["matched"] == 0
