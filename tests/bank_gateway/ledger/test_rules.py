"""The loan ledger's state machine: any arrival order of a loan's events gives one ledger."""

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.bank_gateway.ledger.events import EVENT_DATA
from services.bank_gateway.ledger.rules import (
    RULES,
    Figures,
    LoanState,
    Refusal,
    Verdict,
    apply,
    decide,
    decided,
    reachable,
)
from tests.bank_gateway.batches.test_opening import application_status
from tests.bank_gateway.conftest import Desk
from tests.bank_gateway.ledger.test_events import bank_with_loans, event

ALLOCATED_FEN = 200_000_000  # ¥2,000,000


def test_terminal_states_accept_nothing_and_every_state_is_reachable() -> None:
    assert reachable(LoanState.ALLOCATED) == set(LoanState) - {LoanState.ALLOCATED}
    for terminal in (LoanState.DECLINED, LoanState.SETTLED):
        assert reachable(terminal) == set()
        assert all(decide(terminal, e) is Verdict.REFUSE for e in RULES)


@st.composite
def lives(draw: Any) -> list[tuple[str, dict[str, Any]]]:
    """A loan's whole life in order: approval, disbursal, repayments, maybe settlement."""
    approved = draw(st.integers(1, ALLOCATED_FEN))
    disbursed = draw(st.integers(1, approved))
    cuts = sorted(draw(st.lists(st.integers(0, disbursed), max_size=4)))
    pays = [b - a for a, b in zip([0, *cuts], [*cuts, disbursed], strict=True)]
    pays = pays if draw(st.booleans()) else pays[:-1]  # paid off, or not yet

    life = [
        (
            "loan.approved",
            {
                "approved_amount": yuan(approved),
                "annual_interest_rate": "0.04",
                "approved_on": "2026-11-26",
            },
        ),
        (
            "loan.disbursed",
            {"amount": yuan(disbursed), "disbursed_on": "2026-11-27", "maturity_on": "2027-11-27"},
        ),
        *[
            ("loan.repayment", {"principal": yuan(p), "interest": "1.00", "paid_on": "2026-12-27"})
            for p in pays
        ],
    ]
    if sum(pays) == disbursed:
        interest = yuan(100 * len(pays))
        life.append(("loan.settled", {"settled_on": "2027-11-27", "interest_paid_total": interest}))
    return life


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


@st.composite
def default_lives(draw: Any) -> tuple[list[tuple[str, dict[str, Any]]], int]:
    """A loan that defaults: approval, disbursal, repayments, overdue, default, the claim,
    recoveries; and what the fund pays on the claim (0: nothing was left under the ceiling)."""
    disbursed = draw(st.integers(2, ALLOCATED_FEN))
    repaid = draw(st.integers(0, disbursed - 1))
    outstanding = disbursed - repaid
    recoveries = draw(st.lists(st.integers(1, outstanding), max_size=3))
    life = [
        (
            "loan.approved",
            {
                "approved_amount": yuan(disbursed),
                "annual_interest_rate": "0.04",
                "approved_on": "2026-11-26",
            },
        ),
        (
            "loan.disbursed",
            {"amount": yuan(disbursed), "disbursed_on": "2026-11-27", "maturity_on": "2027-11-27"},
        ),
        *(
            [
                (
                    "loan.repayment",
                    {"principal": yuan(repaid), "interest": "1.00", "paid_on": "2026-12-27"},
                )
            ]
            if repaid
            else []
        ),
        ("loan.overdue", {"overdue_principal": yuan(outstanding), "since": "2027-02-01"}),
        (
            "loan.defaulted",
            {
                "outstanding_principal": yuan(outstanding),
                "interest_due": "10.00",
                "defaulted_on": "2027-05-01",
            },
        ),
        (
            "claim.submitted",
            {
                "outstanding_principal": yuan(outstanding),
                "interest_due": "10.00",
                "submitted_on": "2027-05-10",
            },
        ),
        *[
            ("loan.recovered", {"amount": yuan(r), "recovered_on": "2027-08-01"})
            for r in recoveries
        ],
    ]
    return life, draw(st.sampled_from([0, 1, outstanding]))


def run(events: list[tuple[str, dict[str, Any]]], payout_fen: int = 0) -> tuple[Figures, list[str]]:
    """Deliver events in this order with hold-and-release, as the gateway does; a claim is
    decided (paying ``payout_fen``) as soon as it is applied."""
    figures = Figures(state=LoanState.ALLOCATED, allocated_fen=ALLOCATED_FEN)
    held: list[tuple[str, dict[str, Any]]] = []
    refused: list[str] = []

    def attempt(kind: str, data: dict[str, Any]) -> bool:
        nonlocal figures
        verdict = decide(figures.state, kind, claim_status=figures.claim_status)
        if verdict is Verdict.HOLD:
            return False
        result = (
            apply(figures, kind, EVENT_DATA[kind].model_validate({"loan_id": "x", **data}))
            if verdict is Verdict.APPLY
            else Refusal("event-not-applicable", "", "")
        )
        if isinstance(result, Refusal) and result.may_fit_later:
            return False
        if isinstance(result, Refusal):
            refused.append(result.code)
        else:
            figures = result
            assert figures.outstanding_fen >= 0
            assert figures.repaid_fen + figures.outstanding_fen == figures.disbursed_fen
            if kind == "claim.submitted":
                outcome = "paid" if payout_fen else "refused"
                figures = decided(figures, outcome=outcome, payout_fen=payout_fen)
        return True

    for kind, data in events:
        if not attempt(kind, data):
            held.append((kind, data))
            continue
        progress = True
        while progress:
            progress = False
            for waiting in list(held):
                if attempt(*waiting):
                    held.remove(waiting)
                    progress = True
                    break
    return figures, refused


@settings(max_examples=500, deadline=None)
@given(data=st.data())
def test_any_order_of_a_valid_life_gives_the_in_order_ledger(data: Any) -> None:
    life = data.draw(lives())
    in_order, refused = run(life)
    assert refused == []
    shuffled = data.draw(st.permutations(life))
    figures, refused = run(list(shuffled))
    assert refused == []
    assert figures == in_order


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_any_order_of_a_default_and_its_claim_gives_the_in_order_ledger(data: Any) -> None:
    life, payout = data.draw(default_lives())
    in_order, refused = run(life, payout)
    assert refused == []
    recovered = sum(
        int(d["amount"].replace(".", "")) for kind, d in life if kind == "loan.recovered"
    )
    assert in_order.recovered_fen == recovered
    expected = "recovering" if recovered else ("compensated" if payout else "defaulted")
    assert in_order.state == expected
    figures, refused = run(list(data.draw(st.permutations(life))), payout)
    assert refused == []
    assert figures == in_order


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(order=st.permutations(range(5)))
async def test_through_the_api_any_arrival_order_ends_settled(desk: Desk, order: list) -> None:
    """The real service, one loan per example: approval, disbursal, two repayments and
    settlement, sent in a generated order."""
    stock = desk.__dict__.setdefault("loan_stock", [])
    if not stock:
        bank, loans = await bank_with_loans(desk, 4)
        stock.extend((bank, loan) for loan in loans)
    bank, loan = stock.pop()
    life = [
        event(
            "loan.approved",
            loan["loan_id"],
            approved_amount="2000000.00",
            annual_interest_rate="0.04",
            approved_on="2026-11-26",
        ),
        event(
            "loan.disbursed",
            loan["loan_id"],
            amount="2000000.00",
            disbursed_on="2026-11-27",
            maturity_on="2027-11-27",
        ),
        event(
            "loan.repayment",
            loan["loan_id"],
            principal="500000.00",
            interest="1.00",
            paid_on="2026-12-27",
        ),
        event(
            "loan.repayment",
            loan["loan_id"],
            principal="1500000.00",
            interest="1.00",
            paid_on="2027-01-27",
        ),
        event("loan.settled", loan["loan_id"], settled_on="2027-01-27", interest_paid_total="2.00"),
    ]
    codes = [(await bank.send(life[i])).status_code for i in order]
    assert all(code in (200, 202) for code in codes), codes
    await desk.deliver()
    application = await application_status(desk, loan["application_id"])
    assert application["status"] == "settled"
    assert [h["to_status"] for h in application["history"]][-5:] == [
        "approved",
        "disbursed",
        "repaying",
        "repaying",
        "settled",
    ]
