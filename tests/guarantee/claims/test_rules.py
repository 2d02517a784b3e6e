"""Claim payouts and recovery shares: exact, within the ceiling, adding up (hypothesis)."""

from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from services.guarantee.claims.rules import claim_figures, fund_share_of, top_ups
from shared.contracts.claims import ClaimOutcome

fen = st.integers(0, 10_000_000_000)  # up to ¥100 m
rates = st.decimals(Decimal("0"), Decimal("0.2"), places=4)
coverages = st.decimals(Decimal("0"), Decimal("0.8"), places=4)
ceilings = st.decimals(Decimal("0"), Decimal("0.05"), places=4)


def figures(**overrides: Any) -> Any:
    values: dict[str, Any] = {
        "outstanding_fen": 200_000_000,
        "interest_due_fen": 0,
        "coverage": Decimal("0.8"),
        "annual_rate": Decimal("0.0385"),
        "cap_days": 90,
        "basis": 360,
        "volume_fen": 600_000_000,
        "ceiling_rate": Decimal("0.05"),
        "paid_before_fen": 0,
    }
    values.update(overrides)
    return claim_figures(**values)


def test_a_known_claim() -> None:
    # 2,000,000 outstanding, 30,000 interest due; at most 90 days at 3.85 % = 19,250 counted.
    claim = figures(interest_due_fen=3_000_000, volume_fen=100_000_000_000)
    assert claim.interest_cap_fen == 1_925_000
    assert claim.interest_recognised_fen == 1_925_000
    assert claim.claimable_fen == 161_540_000  # 80 % × 2,019,250
    assert (claim.payout_fen, claim.outcome) == (161_540_000, ClaimOutcome.PAID)


@given(
    outstanding=fen,
    interest=fen,
    coverage=coverages,
    rate=rates,
    cap_days=st.integers(0, 365),
    volume=fen,
    ceiling=ceilings,
    paid_before=fen,
)
def test_a_payout_never_passes_the_claim_nor_the_ceiling(
    outstanding: int,
    interest: int,
    coverage: Decimal,
    rate: Decimal,
    cap_days: int,
    volume: int,
    ceiling: Decimal,
    paid_before: int,
) -> None:
    claim = figures(
        outstanding_fen=outstanding,
        interest_due_fen=interest,
        coverage=coverage,
        annual_rate=rate,
        cap_days=cap_days,
        volume_fen=volume,
        ceiling_rate=ceiling,
        paid_before_fen=paid_before,
    )
    assert 0 <= claim.interest_recognised_fen <= interest
    assert claim.interest_recognised_fen <= claim.interest_cap_fen
    exact = coverage * (outstanding + claim.interest_recognised_fen)
    assert abs(claim.claimable_fen - exact) <= Decimal("0.5")
    assert 0 <= claim.payout_fen <= claim.claimable_fen
    room = max(claim.ceiling_fen - paid_before, 0)
    assert claim.payout_fen == min(claim.claimable_fen, room)
    assert claim.refused_fen == claim.claimable_fen - claim.payout_fen
    expected = (
        ClaimOutcome.PAID
        if claim.refused_fen == 0
        else ClaimOutcome.PARTIALLY_PAID
        if claim.payout_fen
        else ClaimOutcome.REFUSED
    )
    assert claim.outcome is expected


@given(
    claims=st.lists(st.tuples(fen, fen), min_size=1, max_size=30),
    volume=fen,
    ceiling=ceilings,
)
def test_claims_of_a_batch_in_any_number_stay_under_its_ceiling(
    claims: list[tuple[int, int]], volume: int, ceiling: Decimal
) -> None:
    paid = 0
    for outstanding, interest in claims:
        claim = figures(
            outstanding_fen=outstanding,
            interest_due_fen=interest,
            volume_fen=volume,
            ceiling_rate=ceiling,
            paid_before_fen=paid,
        )
        paid += claim.payout_fen
        assert paid <= claim.ceiling_fen
        if claim.refused_fen:
            # Cut by the ceiling: it is used up exactly, never left half-used.
            assert paid == claim.ceiling_fen


@given(
    payout=fen,
    base=st.integers(1, 10_000_000_000),
    recoveries=st.lists(st.integers(1, 1_000_000_000), min_size=1, max_size=20),
    data=st.data(),
)
def test_recovery_shares_add_up_whatever_the_cuts(
    payout: int, base: int, recoveries: list[int], data: Any
) -> None:
    payout = min(payout, base)  # the fund never pays more than the loss

    def shares(amounts: list[int]) -> list[int]:
        recovered, fund, out = 0, 0, []
        for amount in amounts:
            recovered += amount
            after = fund_share_of(recovered_fen=recovered, payout_fen=payout, base_fen=base)
            out.append(after - fund)
            fund = after
        return out

    split = shares(recoveries)
    assert all(0 <= share <= amount for share, amount in zip(split, recoveries, strict=True))
    assert sum(split) <= payout
    exact = Decimal(sum(recoveries)) * payout / base
    assert abs(sum(split) - min(exact, Decimal(payout))) <= Decimal("0.5")
    # The same total recovered in other pieces, in another order: the same total share.
    other = data.draw(st.permutations(recoveries))
    assert sum(shares(list(other))) == sum(split)
    assert sum(shares([sum(recoveries)])) == sum(split)


@given(st.lists(st.integers(0, 10**9), max_size=8), st.integers(-(10**9), 10**10))
def test_top_ups_pay_the_room_to_the_oldest_open_claims(remainders: list[int], room: int) -> None:
    paid = top_ups(remainders, room)
    assert all(0 <= p <= r for p, r in zip(paid, remainders, strict=True))
    assert sum(paid) == min(sum(remainders), max(room, 0))
    # Oldest first: a claim gets something only once every older one is paid in full.
    for i, p in enumerate(paid):
        if p:
            assert all(paid[j] == remainders[j] for j in range(i))


@given(
    overdue_days=st.integers(0, 400),
    after_default=st.integers(0, 400),
    minimum=st.integers(0, 200),
    deadline=st.integers(1, 400),
)
def test_a_claim_is_taken_exactly_inside_the_policys_window(
    overdue_days: int, after_default: int, minimum: int, deadline: int
) -> None:
    """Not before ``minimum`` days overdue, not after ``deadline`` days from the default;
    too early names the day it may be filed again, which is then inside the window."""
    from datetime import date, timedelta

    from services.guarantee.claims.rules import untimely

    submitted = date(2024, 6, 30)
    overdue_since = submitted - timedelta(days=overdue_days)
    defaulted_on = submitted - timedelta(days=after_default)
    window = {"min_days_overdue": minimum, "deadline_days": deadline, "policy_zh": "《政策》"}
    finding = untimely(
        submitted_on=submitted, overdue_since=overdue_since, defaulted_on=defaulted_on, **window
    )
    if overdue_days < minimum:
        assert finding is not None and finding.code == "too_early"
        assert f"逾期满 {minimum} 天" in finding.message_zh
        assert finding.again_on == overdue_since + timedelta(days=minimum)
        assert finding.again_on is not None
        later = untimely(
            submitted_on=finding.again_on,
            overdue_since=overdue_since,
            defaulted_on=min(defaulted_on, finding.again_on),
            **{**window, "deadline_days": 10_000},
        )
        assert later is None
    elif after_default > deadline:
        assert finding is not None and finding.code == "too_late"
        assert f"{deadline} 天内" in finding.message_zh
    else:
        assert finding is None


def test_a_claim_without_its_dates_or_before_its_default_is_not_taken() -> None:
    from datetime import date

    from services.guarantee.claims.rules import untimely

    window = {"min_days_overdue": 90, "deadline_days": 180, "policy_zh": "《政策》"}
    undated = untimely(
        submitted_on=date(2024, 6, 30), overdue_since=None, defaulted_on=None, **window
    )
    assert undated is not None and undated.code == "undated"
    before = untimely(
        submitted_on=date(2024, 6, 30),
        overdue_since=date(2024, 1, 1),
        defaulted_on=date(2024, 7, 1),
        **window,
    )
    assert before is not None and "早于违约日" in before.message_zh
