"""备案: a disbursal makes the guarantee service issue the guarantee, terms frozen."""

from decimal import Decimal
from typing import Any

from tests.bank_gateway.conftest import Desk
from tests.bank_gateway.ledger.test_events import APPROVED, bank_with_loans, event
from tests.conftest import asgi_client


async def test_a_disbursal_issues_the_guarantee_with_its_fee_schedule(
    desk: Desk, guarantee_app: Any
) -> None:
    bank, [loan] = await bank_with_loans(desk, 1)
    await bank.send(event("loan.approved", loan["loan_id"], **APPROVED))
    disbursed = {"amount": "1800000.00", "disbursed_on": "2026-11-27", "maturity_on": "2028-05-27"}
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
            ("2026-11-27", "2027-11-27", 365),
            ("2027-11-27", "2028-05-27", 182),
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
            "disbursed_on": "2026-11-27",
            "maturity_on": "2028-05-27",
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
