"""Random loan lives through the real gateway and guarantee service: approval, disbursal,
partial repayments, early settlement or default and claim, with implausible figures mixed
in. After every event: the fund's 在保余额 is the ledger's outstanding (0 once released)
and the batch's sum of it, no fee period starts after a release, every period is within
the 1 %-a-year ceiling and its subsidy within the fee, and a refused event changed
nothing."""

from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.clock import shanghai_today
from tests.bank_gateway.conftest import Desk
from tests.bank_gateway.ledger.test_events import APPROVED, bank_with_loans, event
from tests.bank_gateway.ledger.test_three_way import three_way
from tests.conftest import asgi_client

LENT_ON = date(2022, 11, 27)
RATE_BP = 385  # APPROVED's 3.85 %, in basis points


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


@st.composite
def lives(draw: Any) -> list[tuple[str, dict[str, Any], bool]]:
    """(event type, data, whether the ledger must take it) in the order a bank sends them."""
    principal = draw(st.integers(1_000, 2_000_000)) * 100
    life: list[tuple[str, dict[str, Any], bool]] = [
        ("loan.approved", {**APPROVED, "approved_amount": yuan(principal)}, True),
        (
            "loan.disbursed",
            {
                "amount": yuan(principal),
                "disbursed_on": LENT_ON.isoformat(),
                "maturity_on": "2023-11-27",
            },
            True,
        ),
    ]
    outstanding, day = principal, LENT_ON
    for _ in range(draw(st.integers(0, 4))):
        gap = draw(st.integers(1, 60))
        paid = day + timedelta(days=gap)
        earned = outstanding * RATE_BP * gap // 3_600_000  # within the contract rate
        wrong = draw(st.sampled_from(["none", "none", "interest", "future", "before"]))
        if wrong == "interest":
            bad = {"principal": "0.00", "interest": yuan(earned * 10 + 100_000)}
            life.append(("loan.repayment", {**bad, "paid_on": paid.isoformat()}, False))
        elif wrong in ("future", "before"):
            when = shanghai_today() + timedelta(days=3) if wrong == "future" else date(2022, 11, 1)
            bad = {"principal": "1.00", "interest": "0.00", "paid_on": when.isoformat()}
            life.append(("loan.repayment", bad, False))
        principal_paid = draw(st.integers(0, outstanding - 1)) if outstanding > 1 else 0
        if principal_paid == 0 and earned == 0:
            continue
        data = {"principal": yuan(principal_paid), "interest": yuan(earned)}
        life.append(("loan.repayment", {**data, "paid_on": paid.isoformat()}, True))
        outstanding, day = outstanding - principal_paid, paid
    interest_total = sum(
        int(d["interest"].replace(".", ""))
        for kind, d, ok in life
        if kind == "loan.repayment" and ok
    )
    ending = draw(st.sampled_from(["open", "settled", "default"]))
    if ending == "settled":
        day += timedelta(days=1)
        final = {"principal": yuan(outstanding), "interest": "0.00", "paid_on": day.isoformat()}
        settled = {"settled_on": day.isoformat(), "interest_paid_total": yuan(interest_total)}
        life += [("loan.repayment", final, True), ("loan.settled", settled, True)]
    elif ending == "default":
        owed = yuan(outstanding)
        life += [
            ("loan.overdue", {"overdue_principal": owed, "since": str(day + timedelta(1))}, True),
            (
                "loan.defaulted",
                {
                    "outstanding_principal": owed,
                    "interest_due": "0.00",
                    "defaulted_on": str(day + timedelta(91)),
                },
                True,
            ),
            (
                "claim.submitted",
                {
                    "outstanding_principal": owed,
                    "interest_due": "0.00",
                    "submitted_on": str(day + timedelta(95)),
                },
                True,
            ),
        ]
    return life


async def ledger_of(desk: Desk, batch_id: str, loan_id: str) -> dict[str, Any]:
    """The loan as the ledger holds it (the bureau's list of the batch's loans)."""
    listed = await desk.gateway.get(
        f"/v1/batches/{batch_id}/loans?limit=200", headers=desk.tokens.header(desk.tokens.bureau())
    )
    assert listed.status_code == 200, listed.text
    [mine] = [i for i in listed.json()["items"] if i["id"] == loan_id]
    return mine


async def exposure_of(guarantee: Any, headers: dict[str, str], group: str, key: str) -> str:
    """The fund's 在保余额 of one batch or bank ("0.00" when none is in force), paging
    through its report, largest first."""
    offset = 0
    while True:
        page = await guarantee.get(
            f"/v1/guarantees/exposure?group={group}&limit=200&offset={offset}", headers=headers
        )
        rows = page.json()["rows"]
        found = [r["outstanding"] for r in rows if r["key"] == key]
        if found or not rows:
            return found[0] if found else "0.00"
        offset += len(rows)


def fen(amount: str) -> int:
    return int(amount.replace(".", ""))


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(life=lives())
async def test_a_loan_s_figures_hold_together_after_every_event(
    desk: Desk, guarantee_app: Any, life: list[tuple[str, dict[str, Any], bool]]
) -> None:
    # A batch of its own: a default in one life may suspend its batch for the others.
    bank, [loan] = await bank_with_loans(desk, 1)
    batch_id = desk.bank.of_type("batch.opened")[-1]["data"]["batch_id"]
    loan_id = loan["loan_id"]
    bureau = desk.tokens.header(desk.tokens.bureau())
    for kind, data, takes in life:
        before = await ledger_of(desk, batch_id, loan_id)
        answer = await bank.send(event(kind, loan_id, **data))
        await desk.deliver()
        if kind == "claim.submitted" and takes:
            await desk.decide_claim(loan_id)  # the fund's reviewers approve it
        after = await ledger_of(desk, batch_id, loan_id)
        if not takes:
            assert answer.status_code == 422, answer.text
            assert after == before, "a refused event changed the ledger"
            continue
        assert answer.status_code == 200, (kind, data, answer.text)
        if after["state"] in ("allocated", "approved"):
            continue
        async with asgi_client(guarantee_app, "http://guarantee") as guarantee:
            held = (await guarantee.get(f"/v1/guarantees/{loan_id}", headers=bureau)).json()
            sums = {
                group: await exposure_of(guarantee, bureau, group, key)
                for group, key in (("batch", batch_id), ("bank", bank.code))
            }
        # The batch's and the bank's 在保余额 (their only loan here) are the loan's, as the
        # fund sums them.
        assert sums == {"batch": held["outstanding"], "bank": held["outstanding"]}
        # Every period within the published ceiling (1 % of its base a year) and its subsidy
        # within the share.
        for p in held["schedule"]:
            assert fen(p["fee"]) * 365 <= fen(p["base"]) * p["days"] // 100 + 365
            assert fen(p["subsidy"]) <= fen(p["fee"]) and fen(p["payable"]) >= 0
        if held["released_on"] is None:
            assert held["outstanding"] == after["outstanding"], (kind, held, after)
        else:
            assert held["outstanding"] == "0.00"
            assert all(p["period_from"] < held["released_on"] for p in held["schedule"])
            assert held["fee"] == yuan(
                sum(int(p["fee"].replace(".", "")) for p in held["schedule"])
            )
    # Once every notice is through, the fund and the SME's page agree with the ledger.
    assert (await three_way(desk, batch_id))["differences"] == []
