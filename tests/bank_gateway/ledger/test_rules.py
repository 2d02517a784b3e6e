"""The loan ledger's state machine: any arrival order of a loan's events gives one ledger."""

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.bank_gateway.ledger.events import EVENT_DATA
from services.bank_gateway.ledger.figures import Bounds, Figures, LoanState, Refusal
from services.bank_gateway.ledger.rules import RULES, Verdict, apply, decide, decided, reachable
from tests.bank_gateway.batches.test_opening import application_status
from tests.bank_gateway.conftest import Desk
from tests.bank_gateway.ledger.test_events import bank_with_loans, event

ALLOCATED_FEN = 200_000_000  # ¥2,000,000
# The day the lives below are judged on: after every date in them.
BOUNDS = Bounds(today=date(2028, 1, 1), term_months=12)


def test_terminal_states_accept_nothing_and_every_state_is_reachable() -> None:
    assert reachable(LoanState.ALLOCATED) == set(LoanState) - {LoanState.ALLOCATED}
    for terminal in (LoanState.DECLINED, LoanState.SETTLED, LoanState.UNGUARANTEED):
        assert reachable(terminal) == set()
        assert all(decide(terminal, e) is Verdict.REFUSE for e in RULES)


@st.composite
def lives(draw: Any) -> list[tuple[str, dict[str, Any]]]:
    """A loan's whole life in order: approval, disbursal, repayments, maybe settlement."""
    approved = draw(st.integers(1, ALLOCATED_FEN))
    disbursed = draw(st.integers(1, approved))
    cuts = sorted(draw(st.lists(st.integers(0, disbursed), max_size=4)))
    pays = [b - a for a, b in zip([0, *cuts], [*cuts, disbursed], strict=True)]
    pays = [p for p in pays if p]  # a repayment pays something
    pays = pays if draw(st.booleans()) else pays[:-1]  # paid off, or not yet
    # A month's interest at 4 % on the whole principal, shared by the repayments (each paid
    # on the same day): within the bound, whichever arrives first.
    share = disbursed * 4 * 30 // (100 * 360) // max(len(pays), 1)

    life = [
        (
            "loan.approved",
            {
                "approved_amount": yuan(approved),
                "annual_interest_rate": "0.04",
                "approved_on": "2022-11-26",
            },
        ),
        (
            "loan.disbursed",
            {"amount": yuan(disbursed), "disbursed_on": "2022-11-27", "maturity_on": "2023-11-27"},
        ),
        *[
            (
                "loan.repayment",
                {"principal": yuan(p), "interest": yuan(share), "paid_on": "2022-12-27"},
            )
            for p in pays
        ],
    ]
    if sum(pays) == disbursed:
        interest = yuan(share * len(pays))
        life.append(("loan.settled", {"settled_on": "2023-11-27", "interest_paid_total": interest}))
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
    # A month's interest at 4 % paid, and a month's on what is left owed: within any bound.
    month = disbursed * 4 * 30 // (100 * 360)
    owed = outstanding * 4 * 30 // (100 * 360)
    life = [
        (
            "loan.approved",
            {
                "approved_amount": yuan(disbursed),
                "annual_interest_rate": "0.04",
                "approved_on": "2022-11-26",
            },
        ),
        (
            "loan.disbursed",
            {"amount": yuan(disbursed), "disbursed_on": "2022-11-27", "maturity_on": "2023-11-27"},
        ),
        *(
            [
                (
                    "loan.repayment",
                    {"principal": yuan(repaid), "interest": yuan(month), "paid_on": "2022-12-27"},
                )
            ]
            if repaid
            else []
        ),
        ("loan.overdue", {"overdue_principal": yuan(outstanding), "since": "2023-02-01"}),
        (
            "loan.defaulted",
            {
                "outstanding_principal": yuan(outstanding),
                "interest_due": yuan(owed),
                "defaulted_on": "2023-05-01",
            },
        ),
        (
            "claim.submitted",
            {
                "outstanding_principal": yuan(outstanding),
                "interest_due": yuan(owed),
                "submitted_on": "2023-05-10",
            },
        ),
        *[
            ("loan.recovered", {"amount": yuan(r), "recovered_on": "2023-08-01"})
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
            apply(figures, kind, EVENT_DATA[kind].model_validate({"loan_id": "x", **data}), BOUNDS)
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
            approved_on="2022-11-26",
        ),
        event(
            "loan.disbursed",
            loan["loan_id"],
            amount="2000000.00",
            disbursed_on="2022-11-27",
            maturity_on="2023-11-27",
        ),
        event(
            "loan.repayment",
            loan["loan_id"],
            principal="500000.00",
            interest="1.00",
            paid_on="2022-12-27",
        ),
        event(
            "loan.repayment",
            loan["loan_id"],
            principal="1500000.00",
            interest="1.00",
            paid_on="2023-01-27",
        ),
        event("loan.settled", loan["loan_id"], settled_on="2023-01-27", interest_paid_total="2.00"),
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


DISBURSED_ON = date(2026, 1, 1)


def _disbursed_loan(principal_fen: int, *, overdue: bool = False) -> Figures:
    return Figures(
        state=LoanState.OVERDUE if overdue else LoanState.DISBURSED,
        allocated_fen=principal_fen,
        approved_fen=principal_fen,
        disbursed_fen=principal_fen,
        outstanding_fen=principal_fen,
        approved_on=DISBURSED_ON,
        annual_rate=Decimal("0.04"),
        disbursed_on=DISBURSED_ON,
        ever_overdue=overdue,
        overdue_since=DISBURSED_ON if overdue else None,
    )


def _repayment(paid_on: date, principal_fen: int, interest_fen: int) -> Any:
    return EVENT_DATA["loan.repayment"].model_validate(
        {
            "loan_id": "x",
            "principal": yuan(principal_fen),
            "interest": yuan(interest_fen),
            "paid_on": paid_on.isoformat(),
        }
    )


def earned_by(figures: Figures, until: date, markup: Decimal) -> Decimal:
    """Interest the loan can have earned by ``until``, summed day by day (an independent
    reckoning of what rules.py bounds): each day's outstanding × rate / 360."""
    rate = Decimal("0.04") * (1 + markup if figures.ever_overdue else 1)
    total, day = Decimal(0), DISBURSED_ON
    while day < until:
        repaid = sum(p for d, p, _ in figures.payments if d <= day)
        total += (figures.disbursed_fen - repaid) * rate / 360
        day += timedelta(days=1)
    return total


@settings(max_examples=300, deadline=None)
@given(
    sent=st.lists(
        st.tuples(st.integers(0, 400), st.integers(0, 60_000_000), st.integers(0, 3_000_000)),
        min_size=1,
        max_size=6,
    ),
    overdue=st.booleans(),
)
def test_the_ledger_never_holds_interest_above_the_contract_rate(
    sent: list[tuple[int, int, int]], overdue: bool
) -> None:
    """Whatever repayments a bank reports, in whatever order: the interest the ledger holds
    by each repayment's day is never more than the outstanding day by day could have
    earned, and a refused repayment changes nothing."""
    figures = _disbursed_loan(200_000_000, overdue=overdue)
    for offset, principal, interest in sent:
        if not principal and not interest:
            continue
        paid_on = DISBURSED_ON + timedelta(days=offset)
        result = apply(figures, "loan.repayment", _repayment(paid_on, principal, interest), BOUNDS)
        if isinstance(result, Refusal):
            assert result.code in ("interest-implausible", "repayment-exceeds-outstanding")
            continue
        figures = result
        for day, _, _ in figures.payments:
            held = sum(i for d, _, i in figures.payments if d <= day)
            assert held <= earned_by(figures, day, BOUNDS.penalty_interest_markup) + 1


def test_implausible_interest_is_refused_with_its_bound() -> None:
    """A bank reported ¥50,000,000 of interest on ¥2,000,000 at 4 % after a month."""
    figures = _disbursed_loan(200_000_000)
    paid_on = DISBURSED_ON + timedelta(days=30)
    refused = apply(figures, "loan.repayment", _repayment(paid_on, 0, 5_000_000_000), BOUNDS)
    assert isinstance(refused, Refusal) and refused.code == "interest-implausible"
    # 2,000,000 × 4 % × 30 / 360 = 6,666.666… → 6,666.67
    assert refused.message_zh.startswith("利息 50,000,000.00 超过按合同利率可计的上限 6,666.67")
    fits = apply(figures, "loan.repayment", _repayment(paid_on, 0, 666_667), BOUNDS)
    assert isinstance(fits, Figures) and fits.interest_paid_fen == 666_667
    # Once overdue, the penalty allowance (50 %) raises the bound to 10,000.00.
    late = _disbursed_loan(200_000_000, overdue=True)
    assert isinstance(
        apply(late, "loan.repayment", _repayment(paid_on, 0, 1_000_000), BOUNDS), Figures
    )
    over = apply(late, "loan.repayment", _repayment(paid_on, 0, 1_000_001), BOUNDS)
    assert isinstance(over, Refusal)


def test_dates_a_loan_cannot_have_are_refused() -> None:
    figures = _disbursed_loan(200_000_000)
    future = apply(
        figures, "loan.repayment", _repayment(BOUNDS.today + timedelta(days=1), 1, 0), BOUNDS
    )
    assert isinstance(future, Refusal) and future.code == "date-implausible"
    assert "晚于今天" in future.message_zh
    ancient = apply(figures, "loan.repayment", _repayment(date(1900, 1, 1), 1, 0), BOUNDS)
    assert isinstance(ancient, Refusal) and "早于放款日 2026-01-01" in ancient.message_zh
    approved = replace(
        figures, state=LoanState.APPROVED, disbursed_fen=0, outstanding_fen=0, disbursed_on=None
    )
    early = EVENT_DATA["loan.disbursed"].model_validate(
        {
            "loan_id": "x",
            "amount": "1.00",
            "disbursed_on": "2025-12-31",
            "maturity_on": "2026-12-31",
        }
    )
    refused = apply(approved, "loan.disbursed", early, BOUNDS)
    assert isinstance(refused, Refusal) and "早于批准日 2026-01-01" in refused.message_zh
    far = EVENT_DATA["loan.disbursed"].model_validate(
        {
            "loan_id": "x",
            "amount": "1.00",
            "disbursed_on": "2026-01-02",
            "maturity_on": "2099-12-31",
        }
    )
    refused = apply(approved, "loan.disbursed", far, BOUNDS)
    assert isinstance(refused, Refusal) and refused.code == "maturity-beyond-term"
    assert "2027-02-02" in refused.message_zh  # 2026-01-02 + 12 months + 31 days
