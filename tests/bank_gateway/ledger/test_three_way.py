"""The three-way reconciliation (issue 15): the ledger, the fund and the SME's application
agree on every loan once the notices are through; a notice still on its way shows as a
difference in flight, and a figure changed behind the ledger's back as one to look into."""

import re
import uuid
from typing import Any
from urllib.parse import unquote, urlencode

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
    reconciler = reconciler_of(desk)
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


def reconciler_of(desk: Desk) -> ThreeWayReconciler:
    return ThreeWayReconciler(
        sessionmaker=desk.app.state.sessionmaker,
        read_sessionmaker=desk.app.state.read_sessionmaker,
        guarantee=desk.app.state.guarantee,
        intake=desk.app.state.intake,
        interval_seconds=3600,
    )


async def test_the_whole_portfolio_is_the_worker_s_kept_run_asked_for_in_the_console(
    desk: Desk,
) -> None:
    """The page never reads every loan on view: a clerk asks, the worker runs and keeps the
    report, the page shows the last one; asking twice while one waits queues one run."""
    from tests.bank_gateway.console.test_pages import csrf_of, signed_in

    await disbursed_loans(desk, 1)
    reconciler = reconciler_of(desk)
    while await reconciler.step():  # whatever earlier tests asked for
        pass
    async with signed_in(desk, "alice") as alice:
        before = await alice.get("/console/reports/three-way")
        assert before.status_code == 200 and "立即对账" in before.text
        for _ in range(2):
            asked = await alice.post(
                "/console/reports/three-way/runs",
                content=urlencode({"_csrf": csrf_of(before)}),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            assert asked.status_code == 303 and "已开始全量对账" in unquote(
                asked.headers["location"]
            )
        waiting = await alice.get("/console/reports/three-way")
        assert "对账进行中" in waiting.text and "立即对账" not in waiting.text
        assert await reconciler.step() == 1  # the one asked for (twice)
        assert await reconciler.step() == 0
        done = await alice.get("/console/reports/three-way")
        assert "对账进行中" not in done.text and "立即对账" in done.text
        checked = re.search(r"共核对 (\d+) 笔贷款，由(.+?)发起。", done.text)
        assert checked is not None, done.text
        assert int(checked.group(1)) >= 1 and checked.group(2) == "张丽（经办）"
