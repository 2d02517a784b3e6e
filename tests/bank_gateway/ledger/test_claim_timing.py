"""A claim filed outside the policy's window (issue 15): too early — the loan not yet
overdue long enough — or after the deadline from its default. The fund does not take it;
the bank hears why in the policy's words (``claim.refused``), the SME's history says so,
and only a claim filed too early may come again."""

from tests.bank_gateway.batches.test_opening import application_status
from tests.bank_gateway.conftest import Desk
from tests.bank_gateway.ledger.test_claims import disbursed_loans, loan_of
from tests.bank_gateway.ledger.test_events import Bank, event, repayment


async def default(bank: Bank, loan_id: str, *, since: str, on: str) -> None:
    await bank.send(event("loan.overdue", loan_id, overdue_principal="10000.00", since=since))
    defaulted = await bank.send(
        event(
            "loan.defaulted",
            loan_id,
            outstanding_principal="10000.00",
            interest_due="0.00",
            defaulted_on=on,
        )
    )
    assert defaulted.status_code == 200, defaulted.text


async def file(bank: Bank, loan_id: str, on: str) -> int:
    filed = await bank.send(
        event(
            "claim.submitted",
            loan_id,
            outstanding_principal="10000.00",
            interest_due="0.00",
            submitted_on=on,
        )
    )
    return filed.status_code


async def test_a_claim_filed_too_early_is_refused_and_may_come_again(desk: Desk) -> None:
    bank, [loan_id], batch_id = await disbursed_loans(desk, 1)
    await bank.send(event("loan.repayment", loan_id, **repayment("1990000.00")))
    await default(bank, loan_id, since="2023-02-01", on="2023-03-15")
    assert await file(bank, loan_id, "2023-04-01") == 200
    await desk.deliver()
    [refused] = [n["data"] for n in desk.bank.of_type("claim.refused")]
    assert (refused["loan_id"], refused["problem_type"]) == (loan_id, "/problems/claim-too-early")
    assert refused["may_resubmit"] is True
    # The policy's own words, with the dates: 59 days of the 90 it asks.
    assert "规定贷款逾期满 90 天方可申请代偿" in refused["reason_zh"]
    assert "2023-02-01" in refused["reason_zh"] and "仅 59 天" in refused["reason_zh"]
    assert "2023-05-02 起可再申请" in refused["reason_zh"]
    loan = await loan_of(desk, batch_id, loan_id)
    assert (loan["state"], loan["claim_status"]) == ("defaulted", None)
    assert not desk.bank.of_type("claim.decided")

    history = (await application_status(desk, loan["application_id"]))["history"]
    assert history[-1]["to_status"] == "defaulted"
    assert history[-1]["reason"].startswith("担保基金未受理代偿申请：")

    # On the day the policy allows, the same loan's claim is taken and decided.
    assert await file(bank, loan_id, "2023-05-02") == 200
    await desk.deliver()
    await desk.decide_claim(loan_id)
    [decided] = desk.bank.of_type("claim.decided")
    assert (decided["data"]["loan_id"], decided["data"]["payout"]) == (loan_id, "8000.00")


async def test_a_claim_filed_after_the_deadline_is_denied_for_good(desk: Desk) -> None:
    bank, [loan_id], batch_id = await disbursed_loans(desk, 1)
    await bank.send(event("loan.repayment", loan_id, **repayment("1990000.00")))
    await default(bank, loan_id, since="2023-01-01", on="2023-03-01")
    held = await bank.send(
        event("loan.recovered", loan_id, amount="3000.00", recovered_on="2023-08-01")
    )
    assert held.status_code == 202  # how it is shared waits for the claim's decision
    assert await file(bank, loan_id, "2023-09-01") == 200  # 184 days after the default
    await desk.deliver()
    [refused] = [n["data"] for n in desk.bank.of_type("claim.refused")]
    assert refused["problem_type"] == "/problems/claim-too-late"
    assert refused["may_resubmit"] is False
    assert "宣布违约之日起 180 天内提出" in refused["reason_zh"]
    assert "申请截止日为 2023-08-28" in refused["reason_zh"]
    loan = await loan_of(desk, batch_id, loan_id)
    # Denied: no claim again, and the recovery that waited is the bank's own.
    assert (loan["state"], loan["claim_status"]) == ("recovering", "denied")
    assert (loan["recovered"], loan["recovered_to_fund"]) == ("3000.00", "0.00")
    assert await file(bank, loan_id, "2023-09-02") == 409
    await desk.deliver()
    assert not desk.bank.of_type("claim.decided")
