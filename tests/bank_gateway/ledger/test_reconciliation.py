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
