"""The three-way reconciliation (issue 15): the ledger, the fund and the SME's application
agree on every loan once the notices are through; a notice still on its way shows as a
difference in flight, and a figure changed behind the ledger's back as one to look into."""

import uuid
from typing import Any

import sqlalchemy as sa

from services.bank_gateway.ledger.three_way_worker import DIFFERENCES, ThreeWayReconciler
from services.guarantee.models import Guarantee
from tests.bank_gateway.conftest import Desk
from tests.bank_gateway.ledger.test_claims import claim, default, disbursed_loans
from tests.bank_gateway.ledger.test_events import event, repayment


async def three_way(desk: Desk, batch_id: str) -> dict[str, Any]:
    answer = await desk.gateway.get(
        f"/v1/reconciliation/three-way?batch_id={batch_id}",
        headers=desk.tokens.header(desk.tokens.bureau()),
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_three_way_differences_in_flight_and_to_look_into(
    desk: Desk, guarantee_app: Any
) -> None:
    bank, (a, b, c), batch_id = await disbursed_loans(desk, 3)
    await bank.send(event("loan.repayment", a, **repayment("1900000.00")))
    await default(bank, a, "100000.00")
    await bank.send(claim(a, "100000.00", "0.00"))
    await desk.deliver()
    await desk.decide_claim(a)
    await bank.send(event("loan.repayment", b, **repayment("2000000.00", "0.00")))
    await bank.send(event("loan.settled", b, settled_on="2023-11-27", interest_paid_total="0.00"))
    await desk.deliver()
    clean = await three_way(desk, batch_id)
    assert (clean["loans_checked"], clean["differences"]) == (3, [])
    totals = clean["totals"]
    # In force: only c (2,000,000); a was paid out (80,000), b settled.
    assert (totals["ledger_outstanding"], totals["fund_outstanding"]) == ("2000000.00",) * 2
    assert (totals["ledger_compensation"], totals["fund_payout"]) == ("80000.00",) * 2

    # A repayment not yet passed on: the fund's 在保余额 and the SME's page lag, in flight.
    await bank.send(event("loan.repayment", c, **repayment("500000.00")))
    lagging = await three_way(desk, batch_id)
    found = {(d["source"], d["what"]): d for d in lagging["differences"]}
    assert found[("guarantee", "在保余额")]["ledger"] == "¥1,500,000.00"
    assert found[("guarantee", "在保余额")]["other"] == "¥2,000,000.00"
    assert all(d["in_flight"] for d in lagging["differences"])
    assert lagging["in_flight"] == len(lagging["differences"])
    assert "送达后自动一致" in found[("guarantee", "在保余额")]["cause"]
    await desk.deliver()
    assert (await three_way(desk, batch_id))["differences"] == []

    # Changed behind the ledger's back: no notice explains it.
    async with guarantee_app.state.sessionmaker() as session, session.begin():
        await session.execute(
            sa.update(Guarantee).where(Guarantee.loan_id == uuid.UUID(c)).values(outstanding_fen=1)  # type: ignore[arg-type]
        )
    [tampered] = (await three_way(desk, batch_id))["differences"]
    assert (tampered["loan_id"], tampered["what"], tampered["other"]) == (c, "在保余额", "¥0.01")
    assert tampered["in_flight"] is False and "需人工核查" in tampered["cause"]


async def test_the_scheduled_run_reports_what_is_to_look_into(
    desk: Desk, guarantee_app: Any
) -> None:
    _, (loan_id,), _ = await disbursed_loans(desk, 1)
    reconciler = ThreeWayReconciler(
        sessionmaker=desk.app.state.read_sessionmaker,
        guarantee=desk.app.state.guarantee,
        intake=desk.app.state.intake,
        interval_seconds=3600,
    )
    assert await reconciler.step() == 0  # not due yet: a restart costs no reconciliation
    await reconciler.run()
    baseline = DIFFERENCES.labels("to_look_into")._value.get()
    async with guarantee_app.state.sessionmaker() as session, session.begin():
        await session.execute(
            sa.update(Guarantee)
            .where(Guarantee.loan_id == uuid.UUID(loan_id))  # type: ignore[arg-type]
            .values(outstanding_fen=7)
        )
    await reconciler.run()
    assert DIFFERENCES.labels("to_look_into")._value.get() == baseline + 1


async def test_the_bureau_reads_the_reconciliation_in_the_console(desk: Desk) -> None:
    from tests.bank_gateway.console.test_pages import signed_in

    bank, (loan_id,), batch_id = await disbursed_loans(desk, 1)
    await bank.send(event("loan.repayment", loan_id, **repayment("100000.00")))  # not passed on
    async with signed_in(desk, "alice") as alice:
        page = await alice.get(f"/console/reports/three-way?batch_id={batch_id}")
        assert page.status_code == 200 and "三方对账" in page.text
        assert "送达后自动一致" in page.text and "在保余额" in page.text
        assert "¥1,900,000.00" in page.text and "¥2,000,000.00" in page.text
        await desk.deliver()
        agreed = await alice.get(f"/console/reports/three-way?batch_id={batch_id}")
        assert "三方一致：没有差异。" in agreed.text
