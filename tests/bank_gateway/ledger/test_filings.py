"""备案: a disbursal makes the guarantee service issue the guarantee, terms frozen."""

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from tests.bank_gateway.conftest import Desk
from tests.bank_gateway.ledger.test_claims import claim, default, disbursed_loans
from tests.bank_gateway.ledger.test_events import APPROVED, bank_with_loans, event
from tests.conftest import asgi_client


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
    [decided] = desk.bank.of_type("claim.decided")
    assert decided["data"]["payout"] != "0.00"  # paid up to the batch's ceiling
    released = await guarantee_of(desk, guarantee_app, loan_id)
    decided_at = datetime.fromisoformat(decided["data"]["decided_at"])
    on = decided_at.astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()
    assert (released["released_on"], released["release_reason"]) == (on, "compensated")
    assert all(p["period_from"] < on for p in released["schedule"])
