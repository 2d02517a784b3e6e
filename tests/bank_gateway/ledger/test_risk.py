"""Batch risk from the ledger; suspension at the policy's line, reopening by an approver."""

from tests.bank_gateway.batches.test_opening import application_status, staff
from tests.bank_gateway.conftest import Desk
from tests.bank_gateway.ledger.test_events import APPROVED, DISBURSED, bank_with_loans, event


async def test_a_default_past_the_line_suspends_the_batch_until_reopened(desk: Desk) -> None:
    bank, loans = await bank_with_loans(desk, 3)
    a, b, c = (loan["loan_id"] for loan in loans)
    for loan in (a, b):
        await bank.send(event("loan.approved", loan, **APPROVED))
        await bank.send(event("loan.disbursed", loan, **DISBURSED))
    batches = await desk.gateway.get(f"/v1/batches?bank={bank.code}", headers=staff(desk, "bob"))
    [batch] = batches.json()["items"]
    risk_url = f"/v1/batches/{batch['id']}/risk"
    healthy = (await desk.gateway.get(risk_url, headers=staff(desk, "bob"))).json()
    assert (healthy["level"], healthy["disbursed"], healthy["loss_rate"]) == (
        "normal",
        "4000000.00",
        "0.0000",
    )
    assert healthy["suspension_loss_rate"] == "0.0400"  # from the policy version
    assert healthy["compensation_ceiling_amount"] == "200000.00"  # 5 % of 4,000,000

    await bank.send(event("loan.overdue", a, overdue_principal="2000000.00", since="2023-02-01"))
    overdue = (await desk.gateway.get(risk_url, headers=staff(desk, "bob"))).json()
    assert (overdue["overdue"], overdue["level"]) == ("2000000.00", "normal")
    defaulted = await bank.send(
        event(
            "loan.defaulted",
            a,
            outstanding_principal="2000000.00",
            interest_due="19250.00",
            defaulted_on="2023-05-01",
        )
    )
    assert defaulted.status_code == 200
    risk = (await desk.gateway.get(risk_url, headers=staff(desk, "bob"))).json()
    assert (risk["status"], risk["level"], risk["loss_rate"], risk["defaulted"]) == (
        "suspended",
        "suspension",
        "0.4000",  # the fund's 80 % of 2,000,000 in default over 4,000,000 lent
        "2000000.00",
    )
    assert risk["fund_exposure"] == "1600000.00"

    refused = await bank.send(event("loan.approved", c, **APPROVED))
    assert refused.status_code == 409
    assert refused.json()["type"] == "/problems/batch-suspended"
    await desk.deliver()
    [notice] = desk.bank.of_type("batch.suspended")
    assert notice["data"]["loss_rate"] == "0.4000"

    base = f"/v1/batches/{batch['id']}"
    plain = await desk.gateway.post(f"{base}/reopening", headers=staff(desk, "bob"))
    assert plain.status_code == 403
    reopened = await desk.gateway.post(
        f"{base}/reopening", headers=staff(desk, "carol", approver=True)
    )
    assert reopened.status_code == 200 and reopened.json()["status"] == "open"
    approved = await bank.send(event("loan.approved", c, **APPROVED))
    assert approved.status_code == 200
    other_bank = desk.tokens.header(desk.tokens.bank("srcb"))
    assert (await desk.gateway.get(risk_url, headers=other_bank)).status_code == 404


async def test_closing_a_batch_declines_what_the_bank_has_not_approved(desk: Desk) -> None:
    bank, loans = await bank_with_loans(desk, 2)
    approved, waiting = (loan["loan_id"] for loan in loans)
    await bank.send(event("loan.approved", approved, **APPROVED))
    early = await bank.send(event("loan.disbursed", waiting, **DISBURSED))
    assert early.status_code == 202  # held: not approved yet
    batches = await desk.gateway.get(f"/v1/batches?bank={bank.code}", headers=staff(desk, "bob"))
    [batch] = batches.json()["items"]
    url = f"/v1/batches/{batch['id']}/closing"
    reason = {"reason": "额度期满"}
    assert (
        await desk.gateway.post(url, json=reason, headers=staff(desk, "bob"))
    ).status_code == 403
    closed = await desk.gateway.post(url, json=reason, headers=staff(desk, "carol", approver=True))
    assert closed.status_code == 200, closed.text
    assert (closed.json()["status"], closed.json()["allocated"]) == ("closed", "2000000.00")
    again = await desk.gateway.post(url, json=reason, headers=staff(desk, "carol", approver=True))
    assert again.json()["type"] == "/problems/batch-state-conflict"

    late = await bank.send(event("loan.approved", waiting, **APPROVED))
    assert (late.status_code, late.json()["type"]) == (409, "/problems/event-not-applicable")
    lives_on = await bank.send(event("loan.disbursed", approved, **DISBURSED))
    assert lives_on.status_code == 200
    await desk.deliver()
    [notice] = desk.bank.of_type("batch.closed")
    assert notice["data"]["declined_loans"] == [waiting]
    application = await application_status(desk, loans[1]["application_id"])
    assert application["status"] == "declined"
    assert "批次已关闭" in application["history"][-1]["reason"]
    reconciliation = await desk.gateway.post(
        "/v1/bank/reconciliations",
        json={"as_of": "2022-12-01", "loans": []},
        headers={"Authorization": f"Bearer {bank.token}"},
    )
    assert reconciliation.json()["waiting_events"] == {}  # the held disbursal was refused
