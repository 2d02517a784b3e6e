"""在保余额: the guarantee service keeps each guarantee's outstanding principal from the
bank's filings, repayments and settlements, and sums it per firm, batch and bank."""

from decimal import Decimal
from typing import Any

from tests.bank_gateway.batches.test_opening import open_batch_with
from tests.bank_gateway.conftest import Desk
from tests.bank_gateway.ledger.test_events import APPROVED, DISBURSED, Bank, event, repayment
from tests.conftest import asgi_client, make_uscc


async def staff_get(desk: Desk, guarantee_app: Any, path: str) -> Any:
    async with asgi_client(guarantee_app, "http://guarantee") as guarantee:
        response = await guarantee.get(path, headers=desk.tokens.header(desk.tokens.bureau()))
    assert response.status_code == 200, response.text
    return response.json()


def row_of(report: dict[str, Any], key: str) -> tuple[int, str] | None:
    rows = [(r["guarantees"], r["outstanding"]) for r in report["rows"] if r["key"] == key]
    return rows[0] if rows else None


async def test_outstanding_follows_repayments_and_ends_at_settlement(
    desk: Desk, guarantee_app: Any
) -> None:
    firm = make_uscc()
    code = await desk.register_bank()
    batch = await open_batch_with(desk, code, await desk.eligible_applications(2, uscc=firm))
    await desk.deliver()
    bank = Bank(desk, code)
    await bank.sign_in()
    first, second = (
        loan["loan_id"] for loan in desk.bank.of_type("batch.opened")[-1]["data"]["loans"]
    )
    for loan_id in (first, second):
        await bank.send(event("loan.approved", loan_id, **APPROVED))
        await bank.send(event("loan.disbursed", loan_id, **DISBURSED))
    await desk.deliver()
    exposure = await staff_get(desk, guarantee_app, f"/v1/guarantees/exposure/{firm}")
    assert exposure["outstanding"] == "4000000.00"
    assert {g["outstanding"] for g in exposure["guarantees"]} == {"2000000.00"}

    await bank.send(event("loan.repayment", first, **repayment("500000.00")))
    await desk.deliver()
    one = await staff_get(desk, guarantee_app, f"/v1/guarantees/{first}")
    assert (one["outstanding"], one["outstanding_on"]) == ("1500000.00", "2022-12-27")
    exposure = await staff_get(desk, guarantee_app, f"/v1/guarantees/exposure/{firm}")
    assert exposure["outstanding"] == "3500000.00"
    by_bank = await staff_get(desk, guarantee_app, "/v1/guarantees/exposure?group=bank&limit=200")
    assert row_of(by_bank, code) == (2, "3500000.00")
    by_batch = await staff_get(desk, guarantee_app, "/v1/guarantees/exposure?group=batch&limit=200")
    assert row_of(by_batch, batch["id"]) == (2, "3500000.00")
    assert Decimal(by_bank["total_outstanding"]) == sum(
        Decimal(r["outstanding"]) for r in by_bank["rows"]
    )

    # The other loan repaid in full and settled: released, out of the firm's exposure.
    await bank.send(event("loan.repayment", second, **repayment("2000000.00")))
    await bank.send(
        event("loan.settled", second, settled_on="2022-12-27", interest_paid_total="6400.00")
    )
    await desk.deliver()
    exposure = await staff_get(desk, guarantee_app, f"/v1/guarantees/exposure/{firm}")
    assert exposure["outstanding"] == "1500000.00"
    assert [g["outstanding"] for g in exposure["guarantees"]] == ["1500000.00", "0.00"]
    by_bank = await staff_get(desk, guarantee_app, "/v1/guarantees/exposure?group=bank&limit=200")
    assert row_of(by_bank, code) == (1, "1500000.00")
    # The gateway's ledger and the fund's figure agree loan by loan.
    ledger = await desk.gateway.get(
        f"/v1/batches/{batch['id']}/loans", headers=desk.tokens.header(desk.tokens.bureau())
    )
    assert ledger.status_code == 200, ledger.text
    in_ledger = {i["id"]: i["outstanding"] for i in ledger.json()["items"]}
    for loan_id in (first, second):
        held = await staff_get(desk, guarantee_app, f"/v1/guarantees/{loan_id}")
        assert held["outstanding"] == in_ledger[loan_id]


async def test_an_outstanding_above_the_principal_is_refused(
    desk: Desk, guarantee_app: Any
) -> None:
    firm = make_uscc()
    code = await desk.register_bank()
    await open_batch_with(desk, code, await desk.eligible_applications(1, uscc=firm))
    await desk.deliver()
    bank = Bank(desk, code)
    await bank.sign_in()
    [loan] = desk.bank.of_type("batch.opened")[-1]["data"]["loans"]
    await bank.send(event("loan.approved", loan["loan_id"], **APPROVED))
    await bank.send(event("loan.disbursed", loan["loan_id"], **DISBURSED))
    await desk.deliver()
    async with asgi_client(guarantee_app, "http://guarantee") as guarantee:
        refused = await guarantee.post(
            f"/v1/guarantees/{loan['loan_id']}/outstanding",
            json={"outstanding": "2000000.01", "on": "2022-12-27"},
            headers=desk.tokens.header(desk.tokens.service("bank_gateway")),
        )
    assert refused.status_code == 422
    assert refused.json()["type"] == "/problems/outstanding-invalid"
    assert "超过备案本金 2000000.00" in refused.json()["detail"]
    held = await staff_get(desk, guarantee_app, f"/v1/guarantees/{loan['loan_id']}")
    assert held["outstanding"] == "2000000.00"
