"""The claim workflow as hypothesis drives it (issue 15): random reviewers take, decide,
confirm, send back and pay the claims of one batch in random order, some of them wrongly.
After every step, what the fund says holds together:

- no payout without a decision: a claim not approved or reduced has paid out nothing;
- never past the ceiling: the batch's payouts add up to at most its ceiling, and to what
  its compensation account says;
- four eyes above the policy's amount: such a claim is decided by an approver who is not
  the one who recommended it; at or below it, by the recommender;
- payments: never more than decided, and ``paid`` means all of it.
"""

from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.clock import shanghai_today
from tests.bank_gateway.conftest import Desk
from tests.bank_gateway.ledger.test_claims import disbursed_loans, loan_of
from tests.conftest import asgi_client

CEILING = Decimal("400000.00")  # four loans of 2,000,000 filed × 5 %
THRESHOLD = Decimal("500000.00")  # the shipped policy's second_review_above
# Two people, so that the one who recommended is often the one asked to confirm.
PEOPLE = ["fund-ann", "fund-ben"]
OPEN = {"submitted", "under_review", "awaiting_second"}
# Steps weighted towards those that move money and those that must be refused.
WEIGHTED = [
    *("take", "approve", "approve", "reduce", "deny"),
    *("agree", "agree", "agree", "back", "pay", "pay", "pay_wrong"),
]

steps = st.lists(
    st.tuples(
        st.integers(0, 1),  # which claim (two of them: steps meet the same claim often)
        st.sampled_from(WEIGHTED),
        st.sampled_from(PEOPLE),
        st.sampled_from([True, True, False]),  # the actor holds the approver right
    ),
    min_size=4,
    max_size=24,
)
outstandings = st.lists(st.sampled_from(["100000.00", "2000000.00"]), min_size=2, max_size=2)


def body_of(action: str, claim: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
    claimable = Decimal(claim["claimable"])
    reduced = (claimable / 2).quantize(Decimal("0.01"))
    due = Decimal(claim["payout"]) - Decimal(claim["paid"])
    today = shanghai_today().isoformat()
    return {
        "take": ("take", None),
        "approve": ("decision", {"verdict": "approve"}),
        "reduce": ("decision", {"verdict": "reduce", "amount": str(reduced), "reason": "核减"}),
        "deny": ("decision", {"verdict": "deny", "reason": "不符合代偿条件"}),
        "agree": ("second-review", {"agree": True}),
        "back": ("second-review", {"agree": False, "note": "退回"}),
        "pay": ("payments", {"paid_on": today, "reference": "PZ-1", "amount": str(due)}),
        "pay_wrong": ("payments", {"paid_on": today, "reference": "PZ-2", "amount": "0.01"}),
    }[action]


def check(claims: list[dict[str, Any]]) -> None:
    decided = [c for c in claims if c["status"] not in OPEN]
    for c in claims:
        payout, paid = Decimal(c["payout"]), Decimal(c["paid"])
        if c["status"] in OPEN or c["status"] == "denied":
            assert payout == 0 and paid == 0, c
        assert paid <= payout, c
        assert (c["status"] == "paid") == (paid > 0 and paid == payout), c
        if c["status"] not in OPEN:
            if Decimal(c["claimable"]) > THRESHOLD:
                assert c["decided_by"] != c["recommended_by"], c
            else:
                assert c["decided_by"] == c["recommended_by"], c
    total = sum((Decimal(c["payout"]) for c in claims), Decimal(0))
    assert total <= CEILING
    for c in decided:
        assert Decimal(c["batch_compensation_after"]) <= CEILING


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(amounts=outstandings, script=steps)
async def test_the_claim_workflow_holds_its_invariants(
    desk: Desk, guarantee_app: Any, amounts: list[str], script: list[Any]
) -> None:
    bank, ids, batch_id = await disbursed_loans(desk, 4)
    gateway = desk.tokens.header(desk.tokens.service("bank_gateway"))
    async with asgi_client(guarantee_app, "http://guarantee") as fund:
        for loan_id, outstanding in zip(ids, amounts, strict=False):
            filed = await fund.post(
                "/v1/claims",
                json={
                    "loan_id": loan_id,
                    "application_id": (await loan_of(desk, batch_id, loan_id))["application_id"],
                    "batch_id": batch_id,
                    "bank_code": bank.code,
                    "outstanding_principal": outstanding,
                    "interest_due": "0.00",
                    "annual_interest_rate": "0.0385",
                    "submitted_on": "2023-05-10",
                    "overdue_since": "2023-02-01",
                    "defaulted_on": "2023-05-01",
                    "compensation_ceiling": "0.0500",
                },
                headers=gateway,
            )
            assert filed.status_code == 201, filed.text
            await desk.attach_papers(loan_id)
        for which, action, who, approver in script:
            loan_id = ids[which]
            before = (await fund.get(f"/v1/claims/{loan_id}", headers=gateway_reader(desk))).json()
            step, body = body_of(action, before)
            token = desk.tokens.header(desk.tokens.fund(who, approver=approver))
            answer = await fund.post(f"/v1/claims/{loan_id}/{step}", json=body, headers=token)
            assert answer.status_code in (200, 403, 409, 422), answer.text
            if step == "second-review" and answer.status_code == 200 and body["agree"]:
                assert approver and before["recommended_by"] != f"fund:{who}"
            listed = await fund.get(
                f"/v1/claims?batch_id={batch_id}&limit=10", headers=gateway_reader(desk)
            )
            check(listed.json()["items"])


def gateway_reader(desk: Desk) -> dict[str, str]:
    """The bureau reads the fund's claims."""
    return desk.tokens.header(desk.tokens.bureau())
