"""Fiscal periods (issue 15): a period's statement per bank and per firm adds up to the
ledger; a bureau approver closes the oldest ended period and it stays as closed; a late
event lands in the next period as an adjustment naming the one it corrects; the bureau
records the subsidies paid by voucher and the SME sees what it received."""

from decimal import Decimal
from typing import Any

from tests.bank_gateway.batches.test_opening import application_status, open_batch_with, staff
from tests.bank_gateway.conftest import Desk
from tests.bank_gateway.ledger.test_claims import disbursed_loans
from tests.bank_gateway.ledger.test_events import APPROVED, DISBURSED, Bank, event
from tests.conftest import asgi_client, make_uscc
from tests.loan_intake.portal.test_pages import applied, registered

FIGURES = (
    "fee",
    "fee_subsidy",
    "fee_collected",
    "interest_subsidy",
    "subsidy_total",
    "compensation_paid",
    "recovered",
    "recovery_to_fund",
)


async def periods(desk: Desk) -> list[dict[str, Any]]:
    answer = await desk.gateway.get("/v1/periods", headers=staff(desk, "alice"))
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


async def statement(desk: Desk, key: str) -> dict[str, Any]:
    answer = await desk.gateway.get(f"/v1/periods/{key}", headers=staff(desk, "alice"))
    assert answer.status_code == 200, answer.text
    return answer.json()


async def close(desk: Desk, key: str, *, who: str = "carol") -> Any:
    """关账 by a bureau person (carol holds the approver permission, alice does not)."""
    return await desk.gateway.post(
        f"/v1/periods/{key}/closing", headers=staff(desk, who, approver=who == "carol")
    )


async def collect(desk: Desk, loan_id: str, amount: str, on: str, reference: str) -> Any:
    """The fund records a receipt of the firm's fee for the loan's first fee period."""
    fund = desk.tokens.header(desk.tokens.fund("fund-dave"))
    async with asgi_client(desk.guarantee_app, "http://guarantee") as guarantee:
        shown = await guarantee.get(f"/v1/guarantees/{loan_id}", headers=staff(desk, "alice"))
        first = shown.json()["schedule"][0]["period_from"]
        return await guarantee.post(
            f"/v1/guarantees/{loan_id}/fee-collections",
            json={
                "period_from": first,
                "amount": amount,
                "collected_on": on,
                "reference": reference,
            },
            headers=fund,
        )


def summed(rows: list[dict[str, Any]]) -> dict[str, Decimal]:
    return {k: sum((Decimal(r[k]) for r in rows), start=Decimal(0)) for k in FIGURES}


def adds_up(found: dict[str, Any]) -> None:
    """Per bank and per firm, the lines add up to the period's totals."""
    totals = {k: Decimal(v) for k, v in found["totals"].items()}
    assert summed(found["banks"]) == totals
    assert summed(found["enterprises"]) == totals
    assert totals["subsidy_total"] == totals["fee_subsidy"] + totals["interest_subsidy"]


async def test_a_period_closes_frozen_and_a_late_receipt_becomes_an_adjustment(
    own_desk: Desk,
) -> None:
    desk = own_desk
    _, (a, b), _ = await disbursed_loans(desk, 2)  # lent 2022-11-27
    first, second = (await periods(desk))[:2]
    assert first["status"] == "open" and first["closable"] and not second["closable"]
    assert first["first_day"] <= "2022-11-27" <= first["last_day"]
    assert (await collect(desk, a, "1000.00", "2022-11-28", "SK-001")).status_code == 201

    preview = await statement(desk, first["key"])
    adds_up(preview)
    assert len(preview["enterprises"]) == 2 and preview["adjustments"] == []
    totals = preview["totals"]
    assert Decimal(totals["fee"]) > 0 and totals["fee_collected"] == "1000.00"
    # The shipped policy subsidises half of the fee of an ordinary firm (rounded per loan).
    assert abs(Decimal(totals["fee_subsidy"]) * 2 - Decimal(totals["fee"])) <= Decimal("0.02")

    # Four eyes of the bureau, and in order: the oldest period first, once ended.
    refused = await close(desk, first["key"], who="alice")
    assert refused.status_code == 403, refused.text
    assert refused.json()["type"].endswith("/approve-permission-required")
    out_of_order = await close(desk, second["key"])
    assert out_of_order.status_code == 409, out_of_order.text
    assert f"请先关闭{first['label']}" in out_of_order.json()["detail"]
    closed = await close(desk, first["key"])
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed" and closed.json()["closed_by"]
    assert closed.json()["totals"] == totals
    assert (await close(desk, first["key"])).status_code == 409  # once

    # Late news of the closed period: another receipt, dated in it, recorded after.
    assert (await collect(desk, b, "500.00", "2022-11-30", "SK-002")).status_code == 201
    assert (await collect(desk, b, "500.00", "2022-11-30", "SK-002")).status_code == 200
    assert (await statement(desk, first["key"]))["totals"] == totals  # frozen
    nxt = await statement(desk, second["key"])
    [adjustment] = nxt["adjustments"]
    assert (adjustment["corrects"], adjustment["kind"], adjustment["amount"]) == (
        first["key"],
        "fee_collected",
        "500.00",
    )
    assert adjustment["corrects_label"] == first["label"]
    assert nxt["totals"]["fee_collected"] == "500.00"
    assert nxt["own_totals"]["fee_collected"] == "0.00"
    assert (await close(desk, second["key"])).status_code == 200
    kept = await statement(desk, second["key"])
    assert kept["adjustments"] == nxt["adjustments"]
    # Closed once corrected: the next period owes the first nothing more.
    third = (await periods(desk))[2]
    assert (await statement(desk, third["key"]))["adjustments"] == []

    # The bureau pays the first period's subsidies; each SME sees what it received.
    body = {"voucher_number": "QPCZ-2023-001", "paid_on": first["last_day"]}
    paid = await desk.gateway.post(
        f"/v1/periods/{first['key']}/payouts", json=body, headers=staff(desk, "alice")
    )
    assert paid.status_code == 200, paid.text
    assert (paid.json()["paid"], paid.json()["amount"]) == (2, totals["subsidy_total"])
    again = await desk.gateway.post(
        f"/v1/periods/{first['key']}/payouts", json=body, headers=staff(desk, "alice")
    )
    assert (again.json()["paid"], len(again.json()["already_paid"])) == (0, 2)
    firms = (await statement(desk, first["key"]))["enterprises"]
    assert {f["payout"]["voucher_number"] for f in firms} == {"QPCZ-2023-001"}
    await desk.deliver()
    opened = desk.bank.of_type("batch.opened")[-1]["data"]["loans"]
    application = next(x["application_id"] for x in opened if x["loan_id"] == a)
    history = (await application_status(desk, application))["history"]
    [received] = [h for h in history if "区财政局已拨付" in h["reason"]]
    assert f"{first['label']}补贴" in received["reason"]
    assert "凭证号 QPCZ-2023-001" in received["reason"]


async def test_the_sme_sees_the_subsidy_it_received_on_its_page(own_desk: Desk) -> None:
    """A firm applies in the portal; its loan's first period is closed and paid out: its
    application page says what arrived, and its timeline names the voucher."""
    desk, sme = own_desk, own_desk.intake.client
    uscc = make_uscc()
    await registered(sme, uscc, name="上海青浦补贴到账测试有限公司")
    submitted = await applied(sme, uscc, "上海青浦补贴到账测试有限公司")
    page_url = submitted.headers["location"].split("?")[0]
    application = page_url.rsplit("/", 1)[1]
    await desk.intake.drain()
    code = await desk.register_bank()
    await open_batch_with(desk, code, [application])
    await desk.deliver()
    bank = Bank(desk, code)
    await bank.sign_in()
    [loan] = desk.bank.of_type("batch.opened")[-1]["data"]["loans"]
    await bank.send(event("loan.approved", loan["loan_id"], **APPROVED))
    await bank.send(event("loan.disbursed", loan["loan_id"], **DISBURSED))
    await desk.deliver()
    first = (await periods(desk))[0]
    assert (await close(desk, first["key"])).status_code == 200
    subsidy = (await statement(desk, first["key"]))["totals"]["subsidy_total"]
    body = {"voucher_number": "青财拨〔2023〕1号", "paid_on": first["last_day"]}
    paid = await desk.gateway.post(
        f"/v1/periods/{first['key']}/payouts", json=body, headers=staff(desk, "alice")
    )
    assert paid.status_code == 200, paid.text
    await desk.deliver()

    page = await sme.get(page_url)
    assert page.status_code == 200
    shown = page.text
    assert f"¥{Decimal(subsidy):,}" in shown.split('id="subsidies-received"')[1][:200]
    assert "补贴到账" in shown and "凭证号 青财拨〔2023〕1号" in shown
