"""Claims (代偿): a default then claim.submitted is decided by the guarantee service, never
past the batch's ceiling; claim.decided reaches the bank; recoveries are shared pro rata."""

import asyncio
from decimal import Decimal
from typing import Any

from tests.bank_gateway.batches.test_opening import application_status, staff
from tests.bank_gateway.conftest import Desk
from tests.bank_gateway.ledger.test_events import (
    APPROVED,
    DISBURSED,
    Bank,
    bank_with_loans,
    event,
    repayment,
)
from tests.conftest import asgi_client


async def default(bank: Bank, loan_id: str, outstanding: str, interest: str = "0.00") -> None:
    await bank.send(
        event("loan.overdue", loan_id, overdue_principal=outstanding, since="2023-02-01")
    )
    response = await bank.send(
        event(
            "loan.defaulted",
            loan_id,
            outstanding_principal=outstanding,
            interest_due=interest,
            defaulted_on="2023-05-01",
        )
    )
    assert response.status_code == 200, response.text


def claim(loan_id: str, outstanding: str, interest: str) -> dict[str, Any]:
    return event(
        "claim.submitted",
        loan_id,
        outstanding_principal=outstanding,
        interest_due=interest,
        submitted_on="2023-05-10",
    )


async def disbursed_loans(desk: Desk, count: int) -> tuple[Bank, list[str], str]:
    """A bank with ``count`` loans of ¥2,000,000 disbursed; (bank, loan ids, batch id)."""
    bank, loans = await bank_with_loans(desk, count)
    ids = [loan["loan_id"] for loan in loans]
    for loan_id in ids:
        await bank.send(event("loan.approved", loan_id, **APPROVED))
        await bank.send(event("loan.disbursed", loan_id, **DISBURSED))
    batches = await desk.gateway.get(f"/v1/batches?bank={bank.code}", headers=staff(desk, "bob"))
    [batch] = batches.json()["items"]
    await desk.deliver()  # 备案: every loan's guarantee issued
    return bank, ids, batch["id"]


async def risk(desk: Desk, batch_id: str) -> dict[str, Any]:
    response = await desk.gateway.get(f"/v1/batches/{batch_id}/risk", headers=staff(desk, "bob"))
    return response.json()


async def test_claims_are_paid_up_to_the_ceiling_and_recoveries_shared(desk: Desk) -> None:
    bank, (a, b, c), batch_id = await disbursed_loans(desk, 3)
    # Volume 6,000,000 × 5 % ceiling = 300,000 of compensation for the whole batch.
    await bank.send(event("loan.repayment", a, **repayment("1900000.00")))
    await default(bank, a, "100000.00", interest="3000.00")

    filed = await bank.send(claim(a, "100000.00", "3000.00"))
    assert (filed.status_code, filed.json()["loan_state"]) == (200, "claimed")
    await desk.deliver()
    assert not desk.bank.of_type("claim.decided")  # taken for the fund's review
    await desk.decide_claim(a)
    [decided] = desk.bank.of_type("claim.decided")
    paid = decided["data"]
    # Interest counted for at most 90 days: 100,000 × 3.85 % × 90 / 360 = 962.50 of 3,000.
    assert paid["interest_recognised"] == "962.50"
    # 80 % × (100,000 + 962.50) = 80,770.00, well inside the ceiling.
    assert (paid["outcome"], paid["claimable"], paid["payout"], paid["refused"]) == (
        "paid",
        "80770.00",
        "80770.00",
        "0.00",
    )
    assert [r["code"] for r in paid["reasons"]] == ["interest_capped", "coverage"]
    assert paid["ceiling_amount"] == "300000.00"

    # The next claim meets the ceiling: 300,000 − 80,770 = 219,230 paid, the rest refused.
    await default(bank, b, "2000000.00", interest="10000.00")
    await bank.send(claim(b, "2000000.00", "10000.00"))
    await desk.deliver()
    await desk.decide_claim(b)
    capped = desk.bank.of_type("claim.decided")[-1]["data"]
    assert capped["loan_id"] == b
    assert capped["claimable"] == "1608000.00"  # 80 % × 2,010,000
    assert (capped["outcome"], capped["payout"], capped["refused"]) == (
        "partially_paid",
        "219230.00",
        "1388770.00",
    )
    assert capped["batch_compensation_after"] == "300000.00"
    assert capped["reasons"][-1]["code"] == "compensation_ceiling"
    assert "待批次备案本金增加、上限提高后补足" in capped["reasons"][-1]["message_zh"]

    # Nothing is left under the ceiling: the third claim is refused, the loan stays in default.
    await default(bank, c, "2000000.00")
    await bank.send(claim(c, "2000000.00", "0.00"))
    await desk.deliver()
    await desk.decide_claim(c)
    refused = desk.bank.of_type("claim.decided")[-1]["data"]
    assert (refused["loan_id"], refused["outcome"], refused["payout"]) == (c, "refused", "0.00")
    figures = await risk(desk, batch_id)
    assert figures["compensation_paid"] == "300000.00"
    assert figures["compensation_room"] == "0.00"
    assert figures["loans_by_state"] == {"compensated": 2, "defaulted": 1}

    # Recoveries after the payout: the fund takes payout ÷ (principal + interest recognised).
    r1 = await bank.send(event("loan.recovered", b, amount="1000000.00", recovered_on="2023-08-01"))
    assert r1.json()["loan_state"] == "recovering"
    await bank.send(event("loan.recovered", b, amount="10000.00", recovered_on="2023-09-01"))
    await bank.send(event("loan.recovered", c, amount="50000.00", recovered_on="2023-09-01"))
    await desk.deliver()
    shares = desk.bank.of_type("recovery.shared")
    assert [s["data"]["loan_id"] for s in shares] == [b, b]  # c's claim paid nothing
    # 219,230 ÷ 2,010,000 of 1,000,000 = 109,069.65; of 1,010,000 in all = 110,160.35, so
    # the second share is the difference (each rounded on the running total, never alone).
    assert [s["data"]["fund_share"] for s in shares] == ["109069.65", "1090.70"]
    assert [s["data"]["bank_share"] for s in shares] == ["890930.35", "8909.30"]
    assert shares[-1]["data"]["fund_recovered_total"] == "110160.35"

    figures = await risk(desk, batch_id)
    assert figures["recovered_to_fund"] == "110160.35"
    # Net loss: c's 2,000,000 in default (its claim paid nothing, so it is the bank's) is no
    # longer the fund's exposure; 300,000 paid − 110,160.35 recovered.
    assert (figures["defaulted"], figures["net_loss"]) == ("0.00", "189839.65")
    assert figures["loss_rate"] == "0.0316"  # 189,839.65 ÷ 6,000,000

    # The SME's page tells the story with amounts.
    application = await application_status(
        desk, (await loan_of(desk, batch_id, b))["application_id"]
    )
    assert application["status"] == "recovering"
    steps = [(h["to_status"], h["reason"]) for h in application["history"]]
    assert [s for s, _ in steps][-5:] == [
        "defaulted",
        "claimed",
        "compensated",
        "recovering",
        "recovering",
    ]
    assert "担保基金审核同意代偿 ¥219,230.00" in steps[-3][1]
    refused_app = await application_status(
        desk, (await loan_of(desk, batch_id, c))["application_id"]
    )
    assert refused_app["history"][-1]["to_status"] == "recovering"
    assert "未予代偿" in refused_app["history"][-2]["reason"]


async def loan_of(desk: Desk, batch_id: str, loan_id: str) -> dict[str, Any]:
    response = await desk.gateway.get(
        f"/v1/batches/{batch_id}/loans?limit=200", headers=staff(desk, "bob")
    )
    [loan] = [x for x in response.json()["items"] if x["id"] == loan_id]
    return loan


async def test_a_recovery_before_the_decision_waits_for_it(desk: Desk) -> None:
    bank, [loan_id], batch_id = await disbursed_loans(desk, 1)
    await bank.send(event("loan.repayment", loan_id, **repayment("1990000.00")))
    await default(bank, loan_id, "10000.00")
    early = await bank.send(
        event("loan.recovered", loan_id, amount="5000.00", recovered_on="2023-06-01")
    )
    assert (early.status_code, early.json()["status"]) == (202, "held")
    await bank.send(claim(loan_id, "10000.00", "0.00"))
    # Still held while the fund decides.
    held = await desk.gateway.post(
        "/v1/bank/reconciliations",
        json={"as_of": "2023-06-02", "loans": []},
        headers={"Authorization": f"Bearer {bank.token}"},
    )
    assert held.json()["waiting_events"] == {loan_id: 1}
    await desk.deliver()
    assert (await loan_of(desk, batch_id, loan_id))["state"] == "claimed"  # under review
    await desk.decide_claim(loan_id)
    loan = await loan_of(desk, batch_id, loan_id)
    # 80 % of 10,000 paid; the waiting recovery applied, 80 % of it to the fund.
    assert (loan["state"], loan["claim_status"], loan["compensation"]) == (
        "recovering",
        "paid",
        "8000.00",
    )
    assert (loan["recovered"], loan["recovered_to_fund"]) == ("5000.00", "4000.00")


async def test_claims_that_do_not_fit_are_refused_or_held(desk: Desk) -> None:
    bank, [a, b], _ = await disbursed_loans(desk, 2)
    before_default = await bank.send(claim(a, "2000000.00", "0.00"))
    assert (before_default.status_code, before_default.json()["status"]) == (202, "held")
    wrong = await bank.send(
        event("loan.overdue", b, overdue_principal="2000000.00", since="2023-02-01")
    )
    assert wrong.status_code == 200
    await bank.send(
        event(
            "loan.defaulted",
            b,
            outstanding_principal="2000000.00",
            interest_due="0.00",
            defaulted_on="2023-05-01",
        )
    )
    mismatch = await bank.send(claim(b, "2000000.01", "0.00"))
    assert mismatch.status_code == 422
    assert mismatch.json()["type"] == "/problems/outstanding-mismatch"
    # Less than the ledger: a repayment may still be on its way, so it waits.
    waits = await bank.send(claim(b, "1999999.99", "0.00"))
    assert waits.status_code == 202
    await bank.send(claim(b, "2000000.00", "0.00"))
    # The waiting one can now never apply (one claim per loan): it is refused then.
    twice = await bank.send(claim(b, "2000000.00", "0.00"))
    assert twice.status_code == 409
    assert twice.json()["type"] == "/problems/event-not-applicable"
    await bank.send(event("loan.repayment", a, **repayment("2000000.00", "0.00")))
    settled = await bank.send(
        event("loan.settled", a, settled_on="2023-11-27", interest_paid_total="0.00")
    )
    assert settled.status_code == 200
    # The claim held for a (before its default) can now never apply: it stays refused.
    after = await bank.send(claim(a, "2000000.00", "0.00"))
    assert after.status_code == 409
    await desk.deliver()
    await desk.decide_claim(b)
    assert desk.bank.of_type("claim.decided")[-1]["data"]["loan_id"] == b


async def test_the_guarantee_service_decides_each_claim_once(
    desk: Desk, guarantee_app: Any
) -> None:
    bank, [loan_id], batch_id = await disbursed_loans(desk, 1)
    await bank.send(event("loan.repayment", loan_id, **repayment("1990000.00")))
    await default(bank, loan_id, "10000.00")
    body = {
        "loan_id": loan_id,
        "application_id": (await loan_of(desk, batch_id, loan_id))["application_id"],
        "batch_id": batch_id,
        "bank_code": bank.code,
        "outstanding_principal": "10000.00",
        "interest_due": "0.00",
        "annual_interest_rate": "0.0385",
        "submitted_on": "2023-05-10",
        "overdue_since": "2023-02-01",
        "defaulted_on": "2023-05-01",
        "compensation_ceiling": "0.0500",
    }
    gateway = desk.tokens.header(desk.tokens.service("bank_gateway"))
    async with asgi_client(guarantee_app, "http://guarantee") as guarantee:
        first = await guarantee.post("/v1/claims", json=body, headers=gateway)
        assert first.status_code == 201, first.text
        assert first.json()["status"] == "submitted"
        again = await guarantee.post("/v1/claims", json=body, headers=gateway)
        assert (again.status_code, again.json()) == (200, first.json())
        other = await guarantee.post(
            "/v1/claims", json={**body, "interest_due": "1.00"}, headers=gateway
        )
        assert other.json()["type"] == "/problems/claim-conflict"
        too_much = await guarantee.post(
            "/v1/claims",
            json={**body, "loan_id": "00000000-0000-4000-8000-000000000000"},
            headers=gateway,
        )
        assert too_much.json()["type"] == "/problems/guarantee-not-found"
        bank_token = desk.tokens.header(desk.tokens.bank(bank.code))
        assert (
            await guarantee.post("/v1/claims", json=body, headers=bank_token)
        ).status_code == 403
        listed = await guarantee.get(
            f"/v1/claims?batch_id={batch_id}", headers=desk.tokens.header(desk.tokens.bureau())
        )
        assert [c["loan_id"] for c in listed.json()["items"]] == [loan_id]
        item = listed.json()["items"][0]
        assert (item["status"], item["outcome"], item["claimable"]) == (
            "submitted",
            "pending",
            "8000.00",
        )
    assert (await desk.decide_claim(loan_id))["payout"] == "8000.00"


async def test_concurrent_claims_never_pass_the_ceiling(desk: Desk, guarantee_app: Any) -> None:
    """Six claims of one batch decided at once (on PostgreSQL truly concurrently): the fund
    pays exactly the ceiling between them, never more."""
    bank, ids, batch_id = await disbursed_loans(desk, 6)
    loans = {x: await loan_of(desk, batch_id, x) for x in ids}
    gateway = desk.tokens.header(desk.tokens.service("bank_gateway"))

    async def file(loan_id: str) -> dict[str, Any]:
        async with asgi_client(guarantee_app, "http://guarantee") as guarantee:
            response = await guarantee.post(
                "/v1/claims",
                json={
                    "loan_id": loan_id,
                    "application_id": loans[loan_id]["application_id"],
                    "batch_id": batch_id,
                    "bank_code": bank.code,
                    "outstanding_principal": "2000000.00",
                    "interest_due": "0.00",
                    "annual_interest_rate": "0.0385",
                    "submitted_on": "2023-05-10",
                    "overdue_since": "2023-02-01",
                    "defaulted_on": "2023-05-01",
                    "compensation_ceiling": "0.0500",
                },
                headers=gateway,
            )
            assert response.status_code == 201, response.text
            return response.json()

    await asyncio.gather(*(file(x) for x in ids))
    for loan_id in ids:
        await desk.attach_papers(loan_id)

    async def decide(loan_id: str, reviewer: str) -> dict[str, Any]:
        """Each claim recommended by one reviewer, confirmed by another (above ¥500,000)."""
        async with asgi_client(guarantee_app, "http://guarantee") as fund:
            recommended = await fund.post(
                f"/v1/claims/{loan_id}/decision",
                json={"verdict": "approve"},
                headers=desk.tokens.header(desk.tokens.fund(reviewer)),
            )
            assert recommended.json()["status"] == "awaiting_second", recommended.text
            confirmed = await fund.post(
                f"/v1/claims/{loan_id}/second-review",
                json={"agree": True},
                headers=desk.tokens.header(desk.tokens.fund(f"{reviewer}-2", approver=True)),
            )
            assert confirmed.status_code == 200, confirmed.text
            return confirmed.json()

    decisions = await asyncio.gather(*(decide(x, f"fund-{n}") for n, x in enumerate(ids)))
    await desk.deliver()
    payouts = sorted(Decimal(d["payout"]) for d in decisions)
    # 12,000,000 × 5 % = 600,000; each claim asks 1,600,000.
    assert sum(payouts) == Decimal("600000.00")
    assert payouts[-1] == Decimal("600000.00")
    assert sorted(d["outcome"] for d in decisions) == ["partially_paid"] + ["refused"] * 5


async def test_a_claim_cut_by_the_ceiling_is_topped_up_as_the_batch_grows(
    desk: Desk, guarantee_app: Any
) -> None:
    """Two of four approved loans lent (volume 4,000,000, ceiling 5 % = 200,000) default: the
    first claim gets the 200,000 the ceiling allows, the second nothing; both remainders
    stay open. Once the other two loans are lent and filed (ceiling 400,000) the room pays
    the oldest open claim: 200,000 more, the bank and the SME told, the batch's figures too."""
    bank, loans = await bank_with_loans(desk, 4)
    a, b, c, d = (loan["loan_id"] for loan in loans)
    for loan_id in (a, b, c, d):  # approved before the losses suspend the batch
        await bank.send(event("loan.approved", loan_id, **APPROVED))
    for loan_id in (a, b):
        await bank.send(event("loan.disbursed", loan_id, **DISBURSED))
    await desk.deliver()
    for loan_id in (a, b):
        await default(bank, loan_id, "2000000.00")
        await bank.send(claim(loan_id, "2000000.00", "0.00"))
        await desk.deliver()
        await desk.decide_claim(loan_id)
    first, second = (n["data"] for n in desk.bank.of_type("claim.decided")[-2:])
    assert (first["loan_id"], first["payout"], first["refused"]) == (a, "200000.00", "1400000.00")
    assert (second["loan_id"], second["outcome"], second["payout"]) == (b, "refused", "0.00")

    for loan_id in (c, d):
        lent = await bank.send(event("loan.disbursed", loan_id, **DISBURSED))
        assert lent.status_code == 200, lent.text
    await desk.deliver()
    topped = desk.bank.of_type("claim.decided")[-1]["data"]
    assert (topped["loan_id"], topped["outcome"]) == (a, "partially_paid")
    assert (topped["payout"], topped["refused"]) == ("400000.00", "1200000.00")
    assert topped["ceiling_amount"] == "400000.00"
    assert topped["reasons"][-1]["code"] == "topped_up"
    assert "追加代偿 200,000.00 元" in topped["reasons"][-1]["message_zh"]
    assert len(desk.bank.of_type("claim.decided")) == 3  # b: the room is used up again
    batch_id = desk.bank.of_type("batch.opened")[-1]["data"]["batch_id"]
    figures = await risk(desk, batch_id)
    assert (figures["compensation_paid"], figures["compensation_room"]) == ("400000.00", "0.00")
    application = await application_status(desk, loans[0]["application_id"])
    assert application["history"][-1]["reason"].startswith("担保基金追加代偿 ¥200,000.00")
    # Asked again (as the next filing would ask), the fund pays nothing more.
    async with asgi_client(guarantee_app, "http://guarantee") as guarantee:
        again = await guarantee.post(
            "/v1/claims/top-ups",
            json={"batch_id": batch_id},
            headers=desk.tokens.header(desk.tokens.service("bank_gateway")),
        )
    assert again.status_code == 200, again.text
    assert again.json()["topped_up"] == "0.00"
    assert [(x["loan_id"], x["payout"]) for x in again.json()["decisions"]] == [
        (a, "400000.00"),
        (b, "0.00"),
    ]
