"""备案: a disbursal makes the guarantee service issue the guarantee, terms frozen."""

import csv
import io
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from tests.bank_gateway.batches.test_opening import application_status, staff
from tests.bank_gateway.conftest import Desk
from tests.bank_gateway.console.test_pages import signed_in
from tests.bank_gateway.ledger.test_claims import claim, default, disbursed_loans
from tests.bank_gateway.ledger.test_events import (
    APPROVED,
    DISBURSED,
    bank_with_loans,
    event,
    repayment,
)
from tests.conftest import asgi_client, make_uscc
from tests.guarantee.factories import make_request


async def test_a_disbursal_issues_the_guarantee_with_its_fee_schedule(
    desk: Desk, guarantee_app: Any
) -> None:
    bank, [loan] = await bank_with_loans(desk, 1, loan__term_months=18)
    await bank.send(event("loan.approved", loan["loan_id"], **APPROVED))
    disbursed = {"amount": "1800000.00", "disbursed_on": "2022-11-27", "maturity_on": "2024-05-27"}
    await bank.send(event("loan.disbursed", loan["loan_id"], **disbursed))
    await desk.deliver()
    async with asgi_client(guarantee_app, "http://guarantee") as guarantee:
        response = await guarantee.get(
            f"/v1/guarantees/{loan['loan_id']}", headers=desk.tokens.header(desk.tokens.bureau())
        )
        assert response.status_code == 200, response.text
        issued = response.json()
        assert issued["principal"] == "1800000.00"
        assert issued["guaranteed_amount"] == "1440000.00"  # 80 %
        assert (issued["coverage_ratio"], issued["annual_fee_rate"]) == ("0.8000", "0.0050")
        periods = issued["schedule"]
        assert [(p["period_from"], p["period_to"], p["days"]) for p in periods] == [
            ("2022-11-27", "2023-11-27", 365),
            ("2023-11-27", "2024-05-27", 182),
        ]
        # 1,800,000 × 0.5 % × 365 / 360 = 9,125.00 ; × 182 / 360 = 4,550.00
        assert [p["fee"] for p in periods] == ["9125.00", "4550.00"]
        assert issued["fee"] == "13675.00"
        assert Decimal(issued["fee_subsidy"]) + Decimal(issued["fee_payable"]) == Decimal(
            issued["fee"]
        )
        filing = {
            "loan_id": loan["loan_id"],
            "application_id": loan["application_id"],
            "batch_id": issued["batch_id"],
            "bank_code": bank.code,
            "principal": "1800000.00",
            "disbursed_on": "2022-11-27",
            "maturity_on": "2024-05-27",
        }
        gateway = desk.tokens.header(desk.tokens.service("bank_gateway"))
        again = await guarantee.post("/v1/guarantees", json=filing, headers=gateway)
        assert again.status_code == 200 and again.json()["id"] == issued["id"]
        changed = await guarantee.post(
            "/v1/guarantees", json={**filing, "principal": "1.00"}, headers=gateway
        )
        assert changed.status_code == 409
        assert changed.json()["type"] == "/problems/guarantee-conflict"
        stranger = await guarantee.post(
            "/v1/guarantees",
            json=filing,
            headers=desk.tokens.header(desk.tokens.service("loan_intake")),
        )
        assert stranger.status_code == 403
    deliveries = await desk.gateway.get(
        "/v1/deliveries?status=delivered", headers=desk.tokens.header(desk.tokens.bureau())
    )
    assert any(d["kind"] == "guarantee" for d in deliveries.json()["items"])


async def guarantee_of(desk: Desk, guarantee_app: Any, loan_id: str) -> dict[str, Any]:
    async with asgi_client(guarantee_app, "http://guarantee") as guarantee:
        response = await guarantee.get(
            f"/v1/guarantees/{loan_id}", headers=desk.tokens.header(desk.tokens.bureau())
        )
    assert response.status_code == 200, response.text
    return response.json()


async def fee_rows(desk: Desk, guarantee_app: Any, bank: str, months: str) -> list[Any]:
    month_from, month_to = months.split("..")
    async with asgi_client(guarantee_app, "http://guarantee") as guarantee:
        response = await guarantee.get(
            f"/v1/guarantees/subsidies?month_from={month_from}&month_to={month_to}",
            headers=desk.tokens.header(desk.tokens.bureau()),
        )
    return [row for row in response.json()["rows"] if row["bank_code"] == bank]


async def test_early_settlement_releases_the_guarantee_and_ends_its_fees(
    desk: Desk, guarantee_app: Any
) -> None:
    bank, [loan] = await bank_with_loans(desk, 1, loan__term_months=24)
    loan_id = loan["loan_id"]
    approved = {**APPROVED, "approved_on": "2022-10-02"}
    await bank.send(event("loan.approved", loan_id, **approved))
    lent = {"amount": "2000000.00", "disbursed_on": "2022-10-05", "maturity_on": "2024-10-05"}
    await bank.send(event("loan.disbursed", loan_id, **lent))
    await desk.deliver()
    issued = await guarantee_of(desk, guarantee_app, loan_id)
    assert [p["period_from"] for p in issued["schedule"]] == ["2022-10-05", "2023-10-05"]
    assert issued["released_on"] is None
    assert len(await fee_rows(desk, guarantee_app, bank.code, "2023-01..2024-12")) == 1

    # Repaid in full 28 days later: the fund no longer stands behind the loan.
    paid = {"principal": "2000000.00", "interest": "5988.89", "paid_on": "2022-11-02"}
    await bank.send(event("loan.repayment", loan_id, **paid))
    settled = await bank.send(
        event("loan.settled", loan_id, settled_on="2022-11-02", interest_paid_total="5988.89")
    )
    assert settled.json()["loan_state"] == "settled"
    await desk.deliver()
    released = await guarantee_of(desk, guarantee_app, loan_id)
    assert (released["released_on"], released["release_reason"]) == ("2022-11-02", "settled")
    # The fee of the days guaranteed only: 2,000,000 × 0.5 % × 28 / 360 = 777.78.
    [period] = released["schedule"]
    assert (period["period_to"], period["days"], period["fee"]) == ("2022-11-02", 28, "777.78")
    assert released["fee"] == "777.78"
    assert Decimal(released["fee_subsidy"]) + Decimal(released["fee_payable"]) == Decimal("777.78")
    # No fee falls due, and no subsidy is paid, in the years it no longer runs.
    assert await fee_rows(desk, guarantee_app, bank.code, "2023-01..2024-12") == []
    [first] = await fee_rows(desk, guarantee_app, bank.code, "2022-10..2022-10")
    assert first["fee"] == "777.78"

    # The gateway's delivery of the release again (a retry) changes nothing; another is refused.
    async with asgi_client(guarantee_app, "http://guarantee") as guarantee:
        gateway = desk.tokens.header(desk.tokens.service("bank_gateway"))
        again = await guarantee.post(
            f"/v1/guarantees/{loan_id}/release",
            json={"released_on": "2022-11-02", "reason": "settled"},
            headers=gateway,
        )
        assert again.status_code == 200 and again.json()["fee"] == "777.78"
        other = await guarantee.post(
            f"/v1/guarantees/{loan_id}/release",
            json={"released_on": "2022-12-01", "reason": "written_off"},
            headers=gateway,
        )
        assert other.status_code == 409
        assert other.json()["type"] == "/problems/guarantee-release-conflict"


async def test_a_paid_claim_releases_the_guarantee(desk: Desk, guarantee_app: Any) -> None:
    bank, (loan_id,), _ = await disbursed_loans(desk, 1)
    await default(bank, loan_id, "2000000.00")
    await bank.send(claim(loan_id, "2000000.00", "0.00"))
    await desk.deliver()
    assert (await guarantee_of(desk, guarantee_app, loan_id))["released_on"] is None
    await desk.decide_claim(loan_id)
    [decided] = desk.bank.of_type("claim.decided")
    assert decided["data"]["payout"] != "0.00"  # paid up to the batch's ceiling
    released = await guarantee_of(desk, guarantee_app, loan_id)
    decided_at = datetime.fromisoformat(decided["data"]["decided_at"])
    on = decided_at.astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()
    assert (released["released_on"], released["release_reason"]) == (on, "compensated")
    assert all(p["period_from"] < on for p in released["schedule"])


async def test_a_refused_filing_leaves_the_loan_unguaranteed_and_says_why(
    desk: Desk, guarantee_app: Any
) -> None:
    """The fund refuses a 备案 that would take the firm over its cap (here: its room was
    taken by another loan after the application's assessment). The bank gets a signed
    filing.refused, the SME's history says why, the allocation returns to the batch."""
    firm = make_uscc()
    big = {"loan__amount": "7000000.00", "enterprise__annual_revenue": "80000000.00"}
    bank, [loan] = await bank_with_loans(desk, 1, uscc=firm, **big)
    loan_id, application_id = loan["loan_id"], loan["application_id"]
    intake, gateway = (
        desk.tokens.header(desk.tokens.service(name)) for name in ("loan_intake", "bank_gateway")
    )
    async with asgi_client(guarantee_app, "http://guarantee") as guarantee:
        # Meanwhile another ¥4,000,000 of the firm's is lent and guaranteed elsewhere.
        told = await guarantee.post(
            "/v1/assessments/lapses", json={"application_ids": [application_id]}, headers=intake
        )
        assert told.status_code == 200
        other = make_request(
            enterprise__uscc=firm,
            enterprise__annual_revenue="80000000.00",
            loan__amount="4000000.00",
        )
        assessed = await guarantee.post(
            "/v1/assessments", json=other.model_dump(mode="json"), headers=intake
        )
        assert assessed.json()["decision"] == "eligible"
        filed = await guarantee.post(
            "/v1/guarantees",
            json={
                "loan_id": str(uuid.uuid4()),
                "application_id": str(other.application_id),
                "batch_id": str(uuid.uuid4()),
                "bank_code": "other",
                "principal": "4000000.00",
                "disbursed_on": "2022-11-20",
                "maturity_on": "2023-11-20",
            },
            headers=gateway,
        )
        assert filed.status_code == 201, filed.text
    batch_id = desk.bank.of_type("batch.opened")[-1]["data"]["batch_id"]
    before = (await desk.gateway.get(f"/v1/batches/{batch_id}", headers=staff(desk, "bob"))).json()

    approved = {**APPROVED, "approved_amount": "7000000.00"}
    await bank.send(event("loan.approved", loan_id, **approved))
    lent = {**DISBURSED, "amount": "7000000.00"}
    assert (await bank.send(event("loan.disbursed", loan_id, **lent))).status_code == 200
    await desk.deliver()

    [notice] = desk.bank.of_type("filing.refused")[-1:]
    assert notice["data"]["loan_id"] == loan_id
    assert notice["data"]["problem_type"] == "/problems/exposure-cap-exceeded"
    assert "在保余额 4,000,000.00 元 + 本笔放款 7,000,000.00 元" in notice["data"]["reason_zh"]
    status = await application_status(desk, application_id)
    assert status["status"] == "unguaranteed"
    assert status["history"][-1]["reason"].startswith("担保基金未予备案：企业")
    after = (await desk.gateway.get(f"/v1/batches/{batch_id}", headers=staff(desk, "bob"))).json()
    assert Decimal(after["available"]) - Decimal(before["available"]) == Decimal("7000000.00")
    # Nothing more moves the ledger for it: not the fund's loan.
    later = await bank.send(event("loan.repayment", loan_id, **repayment("100000.00")))
    assert later.status_code == 409
    async with asgi_client(guarantee_app, "http://guarantee") as guarantee:
        missing = await guarantee.get(
            f"/v1/guarantees/{loan_id}", headers=desk.tokens.header(desk.tokens.bureau())
        )
    assert missing.status_code == 404


async def test_the_fund_refuses_a_loan_lent_outside_its_batch_or_dearer_than_the_policy(
    desk: Desk, guarantee_app: Any
) -> None:
    """备案 is checked against the batch's window and the policy's terms, not only the
    cap: a loan disbursed before the batch opened, and one at 7 % where the policy allows
    6 %, are not guaranteed, each with the fund's finding."""
    bank, [early, dear] = await bank_with_loans(desk, 2)
    await bank.send(
        event("loan.approved", early["loan_id"], **{**APPROVED, "approved_on": "2021-12-20"})
    )
    before_window = {**DISBURSED, "disbursed_on": "2021-12-30", "maturity_on": "2022-12-30"}
    assert (
        await bank.send(event("loan.disbursed", early["loan_id"], **before_window))
    ).status_code == 200
    await bank.send(
        event("loan.approved", dear["loan_id"], **{**APPROVED, "annual_interest_rate": "0.07"})
    )
    assert (
        await bank.send(event("loan.disbursed", dear["loan_id"], **DISBURSED))
    ).status_code == 200
    await desk.deliver()

    refused = {n["data"]["loan_id"]: n["data"] for n in desk.bank.of_type("filing.refused")}
    assert refused[early["loan_id"]]["problem_type"] == "/problems/filing-refused"
    assert (
        "放款日 2021-12-30 不在批次有效期 2022-01-01 至" in refused[early["loan_id"]]["reason_zh"]
    )
    assert refused[dear["loan_id"]]["reason_zh"] == "贷款年利率 7 % 超过政策上限 6 %"
    for loan in (early, dear):
        status = await application_status(desk, loan["application_id"])
        assert status["status"] == "unguaranteed"
        async with asgi_client(guarantee_app, "http://guarantee") as guarantee:
            missing = await guarantee.get(
                f"/v1/guarantees/{loan['loan_id']}",
                headers=desk.tokens.header(desk.tokens.bureau()),
            )
        assert missing.status_code == 404


async def test_the_sme_sees_the_fee_billed_on_what_it_still_owes(
    desk: Desk, guarantee_app: Any
) -> None:
    """Fee on each period's outstanding (the shipped policy): half the principal repaid in
    the first year, the second year is billed on the rest; the SME's page shows the billed
    schedule read from the fund, not the estimate made at assessment."""
    firm = make_uscc()
    bank, [loan] = await bank_with_loans(desk, 1, uscc=firm, loan__term_months=24)
    loan_id = loan["loan_id"]
    await bank.send(event("loan.approved", loan_id, **APPROVED))
    lent = {**DISBURSED, "maturity_on": "2024-11-27"}
    await bank.send(event("loan.disbursed", loan_id, **lent))
    paid = await bank.send(
        event("loan.repayment", loan_id, **repayment("1000000.00", paid_on="2023-06-27"))
    )
    assert paid.status_code == 200, paid.text
    await desk.deliver()

    issued = await guarantee_of(desk, guarantee_app, loan_id)
    periods = [(p["period_from"], p["base"], p["fee"]) for p in issued["schedule"]]
    # 2,000,000 × 0.5 % × 365 / 360 ; 1,000,000 × 0.5 % × 366 / 360 (2024-02-29)
    assert periods == [
        ("2022-11-27", "2000000.00", "10138.89"),
        ("2023-11-27", "1000000.00", "5083.33"),
    ]
    assert (issued["fee"], issued["fee_subsidy"], issued["fee_payable"]) == (
        "15222.22",
        "7611.12",
        "7611.10",
    )
    desk.intake.client.cookies.set("picidai_session", desk.tokens.sme(firm))
    page = await desk.intake.client.get(f"/portal/applications/{loan['application_id']}")
    assert page.status_code == 200
    assert "担保费（已备案）" in page.text and "预计担保费" not in page.text
    table = page.text[page.text.index('id="fee-schedule"') :]
    for figure in ("¥1,000,000.00", "¥5,083.33", "¥15,222.22", "¥7,611.10"):
        assert figure in table


async def test_no_fee_subsidy_nor_interest_subsidy_while_overdue(
    desk: Desk, guarantee_app: Any
) -> None:
    """A 专精特新 loan overdue from 2023-11-01 until a repayment on 2023-12-10: the fee
    period due 2023-11-27 gets no fee subsidy (the SME pays it whole), and the interest paid
    by the curing repayment gets no 贴息 (the subsidy report lists it as not subsidised)."""
    bank, [loan] = await bank_with_loans(
        desk, 1, loan__term_months=24, enterprise__flags={"specialized_new": True}
    )
    loan_id = loan["loan_id"]
    await bank.send(event("loan.approved", loan_id, **APPROVED))
    await bank.send(event("loan.disbursed", loan_id, **{**DISBURSED, "maturity_on": "2024-11-27"}))
    overdue = {"overdue_principal": "2000000.00", "since": "2023-11-01"}
    assert (await bank.send(event("loan.overdue", loan_id, **overdue))).status_code == 200
    cure = repayment("0.00", interest="50000.00", paid_on="2023-12-10")
    assert (await bank.send(event("loan.repayment", loan_id, **cure))).status_code == 200
    await desk.deliver()

    issued = await guarantee_of(desk, guarantee_app, loan_id)
    first, second = issued["schedule"]
    assert (first["subsidy"], first["payable"]) == ("5069.45", "5069.44")
    assert second["period_from"] == "2023-11-27"
    assert (second["subsidy"], second["payable"]) == ("0.00", second["fee"])
    async with signed_in(desk, "carol") as carol:
        exported = await carol.get(
            "/console/reports/subsidies?month_from=2023-12&month_to=2023-12&format=csv"
        )
    lines = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    [mine] = [line for line in lines if line[1] == f"测试银行{bank.code}"]
    assert mine[4:8] == ["1", "50000.00", "50000.00", "0.00"]
