"""The guarantee fund reviews each claim (issue 15): a reviewer approves, reduces (amount and
reason) or denies (reason); above the policy's ¥500,000 a second person with the approver
right confirms, never the recommender; the decision fixes the payout within the ceiling and
reaches the bank (``claim.decided``) and the SME; the payment is recorded with its day and
voucher and reaches them too (``claim.paid``)."""

from typing import Any

from shared.clock import shanghai_today
from tests.bank_gateway.batches.test_opening import application_status
from tests.bank_gateway.conftest import Desk
from tests.bank_gateway.ledger.test_claims import claim, default, disbursed_loans, loan_of
from tests.bank_gateway.ledger.test_events import Bank, event, repayment
from tests.conftest import asgi_client


async def claimed(desk: Desk, outstanding: str) -> tuple[str, str, Bank]:
    """A loan of a batch of three (ceiling 300,000) in default with its claim filed and taken
    for review; (loan id, batch id, its bank)."""
    bank, (loan_id, _, _), batch_id = await disbursed_loans(desk, 3)
    repaid = f"{2_000_000 - int(outstanding.split('.')[0])}.00"
    if repaid != "0.00":
        await bank.send(event("loan.repayment", loan_id, **repayment(repaid)))
    await default(bank, loan_id, outstanding)
    await bank.send(claim(loan_id, outstanding, "0.00"))
    await desk.deliver()
    await desk.attach_papers(loan_id)
    return loan_id, batch_id, bank


async def call(desk: Desk, method: str, path: str, token: str, body: Any = None) -> Any:
    async with asgi_client(desk.guarantee_app, "http://guarantee") as fund:
        return await fund.request(method, path, json=body, headers=desk.tokens.header(token))


async def test_a_reduced_claim_is_paid_with_its_voucher(desk: Desk) -> None:
    loan_id, batch_id, _ = await claimed(desk, "100000.00")
    dave = desk.tokens.fund("fund-dave")
    inbox = await call(desk, "GET", f"/v1/claims?batch_id={batch_id}&status=submitted", dave)
    assert [c["loan_id"] for c in inbox.json()["items"]] == [loan_id]
    taken = await call(desk, "POST", f"/v1/claims/{loan_id}/take", dave)
    assert (taken.json()["status"], taken.json()["reviewer"]) == ("under_review", "fund:fund-dave")
    room = (await call(desk, "GET", f"/v1/claims/{loan_id}/room", dave)).json()
    assert (room["claimable"], room["room"], room["needs_second_review"]) == (
        "80000.00",
        "300000.00",
        False,
    )

    no_reason = {"verdict": "reduce", "amount": "60000.00"}
    refused = await call(desk, "POST", f"/v1/claims/{loan_id}/decision", dave, no_reason)
    assert (refused.status_code, refused.json()["type"]) == (422, "/problems/claim-review-invalid")
    too_much = {"verdict": "reduce", "amount": "80000.00", "reason": "x"}
    refused = await call(desk, "POST", f"/v1/claims/{loan_id}/decision", dave, too_much)
    assert "须小于按公式应代偿的 ¥80,000.00" in refused.json()["detail"]
    bureau = await call(
        desk, "POST", f"/v1/claims/{loan_id}/decision", desk.tokens.bureau(), no_reason
    )
    assert bureau.status_code == 403
    assert not desk.bank.of_type("claim.decided"), "nothing decided by a refused review"

    reason = "银行未按约定催收，核减 20,000 元"
    decided = await desk.decide_claim(loan_id, "reduce", amount="60000.00", reason=reason)
    assert (decided["status"], decided["payout"], decided["decided_by"]) == (
        "reduced",
        "60000.00",
        "fund:fund-dave",
    )
    [notice] = [n["data"] for n in desk.bank.of_type("claim.decided")]
    assert (notice["status"], notice["payout"], notice["decision_reason"]) == (
        "reduced",
        "60000.00",
        reason,
    )
    assert notice["reasons"][-1]["code"] == "reduced"
    again = await call(desk, "POST", f"/v1/claims/{loan_id}/decision", dave, {"verdict": "approve"})
    assert (again.status_code, again.json()["type"]) == (409, "/problems/claim-not-reviewable")

    wrong = {"paid_on": "2023-05-20", "reference": "PZ-2026-0001", "amount": "80000.00"}
    short = await call(desk, "POST", f"/v1/claims/{loan_id}/payments", dave, wrong)
    assert short.json()["type"] == "/problems/claim-payment-invalid"
    assert "与应付 ¥60,000.00 不符" in short.json()["detail"]
    early = {**wrong, "amount": "60000.00"}
    assert (
        await call(desk, "POST", f"/v1/claims/{loan_id}/payments", dave, early)
    ).status_code == 422
    today = shanghai_today().isoformat()
    paid = await call(
        desk, "POST", f"/v1/claims/{loan_id}/payments", dave, {**early, "paid_on": today}
    )
    assert paid.status_code == 200, paid.text
    assert (paid.json()["status"], paid.json()["paid"]) == ("paid", "60000.00")
    twice = await call(
        desk, "POST", f"/v1/claims/{loan_id}/payments", dave, {**early, "paid_on": today}
    )
    assert twice.status_code == 409
    await desk.deliver()
    [told] = [n["data"] for n in desk.bank.of_type("claim.paid")]
    assert (told["paid"], told["paid_on"], told["payment_reference"]) == (
        "60000.00",
        today,
        "PZ-2026-0001",
    )
    loan = await loan_of(desk, batch_id, loan_id)
    assert (loan["compensation"], loan["compensation_paid"], loan["compensation_reference"]) == (
        "60000.00",
        "60000.00",
        "PZ-2026-0001",
    )
    history = (await application_status(desk, loan["application_id"]))["history"]
    assert "核减后同意代偿 ¥60,000.00" in history[-2]["reason"]
    assert history[-1]["reason"].startswith("担保基金已向银行支付代偿款 ¥60,000.00")
    assert "PZ-2026-0001" in history[-1]["reason"]


async def test_a_denied_claim_pays_nothing_and_recoveries_stay_the_bank_s(desk: Desk) -> None:
    loan_id, batch_id, bank = await claimed(desk, "100000.00")
    waiting = event("loan.recovered", loan_id, amount="5000.00", recovered_on="2023-06-01")
    assert (await bank.send(waiting)).status_code == 202  # its split waits for the decision
    decided = await desk.decide_claim(loan_id, "deny", reason="贷款用途与申报不符")
    assert (decided["status"], decided["outcome"], decided["payout"]) == (
        "denied",
        "denied",
        "0.00",
    )
    [notice] = [n["data"] for n in desk.bank.of_type("claim.decided")]
    assert notice["reasons"][-1]["message_zh"] == "担保基金审核不予代偿：贷款用途与申报不符"
    loan = await loan_of(desk, batch_id, loan_id)
    # The recovery that waited applied: all of it the bank's, the fund paid nothing.
    assert (loan["state"], loan["claim_status"], loan["compensation"]) == (
        "recovering",
        "denied",
        "0.00",
    )
    assert (loan["recovered"], loan["recovered_to_fund"]) == ("5000.00", "0.00")
    assert not desk.bank.of_type("recovery.shared")
    nothing = await call(
        desk,
        "POST",
        f"/v1/claims/{loan_id}/payments",
        desk.tokens.fund(),
        {"paid_on": "2023-06-01", "reference": "X1", "amount": "1.00"},
    )
    assert nothing.status_code == 409


async def test_a_large_claim_needs_a_second_person(desk: Desk) -> None:
    loan_id, _, _ = await claimed(desk, "2000000.00")  # claimable 1,600,000 > 500,000
    dave, erin = desk.tokens.fund("fund-dave"), desk.tokens.fund("fund-erin", approver=True)
    path = f"/v1/claims/{loan_id}"
    first = await call(desk, "POST", f"{path}/decision", dave, {"verdict": "approve"})
    assert (first.json()["status"], first.json()["recommended_by"]) == (
        "awaiting_second",
        "fund:fund-dave",
    )
    await desk.deliver()
    assert not desk.bank.of_type("claim.decided"), "a recommendation is not a decision"
    own = await call(
        desk,
        "POST",
        f"{path}/second-review",
        desk.tokens.fund("fund-dave", approver=True),
        {"agree": True},
    )
    assert (own.status_code, own.json()["type"]) == (403, "/problems/four-eyes-required")
    clerk = await call(
        desk, "POST", f"{path}/second-review", desk.tokens.fund("fund-fay"), {"agree": True}
    )
    assert clerk.json()["type"] == "/problems/approve-permission-required"
    bare = await call(desk, "POST", f"{path}/second-review", erin, {"agree": False})
    assert bare.status_code == 422
    back = await call(
        desk, "POST", f"{path}/second-review", erin, {"agree": False, "note": "请核实催收记录"}
    )
    assert (back.json()["status"], back.json()["recommendation"]) == ("under_review", None)
    again = await call(
        desk,
        "POST",
        f"{path}/decision",
        dave,
        {"verdict": "reduce", "amount": "1500000.00", "reason": "催收不力"},
    )
    assert again.json()["status"] == "awaiting_second"
    agreed = await call(desk, "POST", f"{path}/second-review", erin, {"agree": True})
    assert agreed.status_code == 200, agreed.text
    # Reduced to 1,500,000, the batch's ceiling (300,000) pays 300,000 now; the rest stays open.
    assert (agreed.json()["status"], agreed.json()["decided_by"]) == ("reduced", "fund:fund-erin")
    assert (agreed.json()["payout"], agreed.json()["refused"]) == ("300000.00", "1200000.00")
    await desk.deliver()
    [notice] = [n["data"] for n in desk.bank.of_type("claim.decided")]
    assert (notice["outcome"], notice["payout"]) == ("partially_paid", "300000.00")
