"""The loan ledger's state machine (DESIGN.md §4): what a bank event does to a loan.

Pure: no database, no HTTP. :func:`decide` says what an event does to a loan — apply it,
hold it until its predecessor arrives, or refuse it for good — and :func:`apply` computes
the loan's new figures. Amounts are integer fen.

    allocated ─approved→ approved ─disbursed→ disbursed ─repayment→ repaying ⟲
        └declined→ declined          disbursed/repaying ─overdue→ overdue ─repayment→ repaying
    overdue ─defaulted→ defaulted ─claim.submitted→ claimed ─(the fund decides)→ compensated
                                                         └(nothing payable)→ defaulted
    compensated / recovering / defaulted (claim decided) ─recovered→ recovering ⟲
    disbursed / repaying / overdue ─settled→ settled

A recovery reported before the claim is decided waits for the decision: only then is it
known how it is shared between fund and bank.

Every figure a bank reports is a claim checked against what the ledger knows (``Bounds``):
no date after today, none before the disbursal (a disbursal not before its approval), a
maturity within the term (+ the policy's grace), interest within the contract rate on the
outstanding day by day (+ the penalty allowance once overdue). A refused event changes
nothing.
"""

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from services.bank_gateway.ledger.events import (
    Approved,
    ClaimSubmitted,
    Defaulted,
    Disbursed,
    EventData,
    Overdue,
    Recovered,
    Repayment,
    Settled,
)
from services.bank_gateway.ledger.figures import (
    Bounds,
    Figures,
    LoanState,
    Refusal,
    interest_beyond_bound,
    interest_due_beyond_bound,
    misdated,
)
from shared.clock import add_months
from shared.money import to_fen

# event type → (states it applies in, state it leads to)
RULES: dict[str, tuple[frozenset[LoanState], LoanState]] = {
    "loan.approved": (frozenset({LoanState.ALLOCATED}), LoanState.APPROVED),
    "loan.declined": (frozenset({LoanState.ALLOCATED}), LoanState.DECLINED),
    "loan.disbursed": (frozenset({LoanState.APPROVED}), LoanState.DISBURSED),
    "loan.repayment": (
        frozenset({LoanState.DISBURSED, LoanState.REPAYING, LoanState.OVERDUE}),
        LoanState.REPAYING,
    ),
    "loan.overdue": (frozenset({LoanState.DISBURSED, LoanState.REPAYING}), LoanState.OVERDUE),
    "loan.defaulted": (frozenset({LoanState.OVERDUE}), LoanState.DEFAULTED),
    "claim.submitted": (frozenset({LoanState.DEFAULTED}), LoanState.CLAIMED),
    "loan.recovered": (
        frozenset({LoanState.DEFAULTED, LoanState.COMPENSATED, LoanState.RECOVERING}),
        LoanState.RECOVERING,
    ),
    "loan.settled": (
        frozenset({LoanState.DISBURSED, LoanState.REPAYING, LoanState.OVERDUE}),
        LoanState.SETTLED,
    ),
}
# Not a bank's event: the guarantee service's decision on a claim …
DECISION_LEADS_TO = frozenset({LoanState.COMPENSATED, LoanState.DEFAULTED})
# … and its refusal of a loan's 备案, which may come while the first repayments arrive.
FILING_REFUSABLE = frozenset({LoanState.DISBURSED, LoanState.REPAYING, LoanState.OVERDUE})


def _successors(state: LoanState) -> set[LoanState]:
    following = {to for event, (froms, to) in RULES.items() if state in froms}
    if state in FILING_REFUSABLE:
        following.add(LoanState.UNGUARANTEED)
    return following | DECISION_LEADS_TO if state is LoanState.CLAIMED else following


def reachable(state: LoanState) -> set[LoanState]:
    """States the loan can still reach from ``state`` (not counting staying put)."""
    seen: set[LoanState] = set()
    frontier = list(_successors(state))
    while frontier:
        nxt = frontier.pop()
        if nxt not in seen:
            seen.add(nxt)
            frontier.extend(_successors(nxt))
    seen.discard(state)
    return seen


# --- decisions --------------------------------------------------------------------------------


class Verdict(StrEnum):
    APPLY = "apply"
    HOLD = "hold"  # its predecessor has not arrived yet
    REFUSE = "refuse"  # it can never apply to this loan


def decide(state: LoanState, event_type: str, *, claim_status: str | None = None) -> Verdict:
    if event_type == "claim.submitted" and claim_status is not None:
        return Verdict.REFUSE  # one claim per loan
    froms, _ = RULES[event_type]
    if state in froms:
        return Verdict.APPLY
    if froms & reachable(state):
        return Verdict.HOLD
    return Verdict.REFUSE


def _outstanding_mismatch(f: Figures, reported: Decimal, what_zh: str) -> Refusal | None:
    reported_fen = to_fen(reported)
    if reported_fen == f.outstanding_fen:
        return None
    return Refusal(
        "outstanding-mismatch",
        f"{what_zh}未偿本金与台账不符",
        f"reported outstanding principal {reported} differs from the ledger",
        # Less than the ledger: a repayment may still be on its way.
        may_fit_later=reported_fen < f.outstanding_fen,
    )


def unguaranteed(figures: Figures) -> Figures | None:
    """The loan after the fund refused its 备案; None if it is past where that can happen
    (a refusal answered twice, or after a settlement reported meanwhile)."""
    if figures.state not in FILING_REFUSABLE:
        return None
    return replace(figures, state=LoanState.UNGUARANTEED)


def decided(figures: Figures, *, outcome: str, payout_fen: int) -> Figures:
    """The loan after the fund decided its claim: compensated, or back in default when
    nothing was payable."""
    state = LoanState.COMPENSATED if payout_fen > 0 else LoanState.DEFAULTED
    return replace(figures, state=state, claim_status=outcome)


def claim_refused(figures: Figures, *, final: bool) -> Figures | None:
    """The loan after the fund refused to take its claim (filed too early, too late): back in
    default. Filed too early, the bank may claim again later (no claim on record); else the
    claim is ``denied`` for good. None if no claim is waiting (a refusal answered twice)."""
    if figures.state is not LoanState.CLAIMED or figures.claim_status != "pending":
        return None
    return replace(figures, state=LoanState.DEFAULTED, claim_status="denied" if final else None)


def _approved(f: Figures, data: Approved, to: LoanState) -> Figures | Refusal:
    amount = to_fen(data.approved_amount)
    if amount > f.allocated_fen:
        return Refusal(
            "amount-exceeds-allocation",
            "批准金额超过批次中分配的金额",
            "approved amount above the amount allocated in the batch",
        )
    return replace(
        f,
        state=to,
        approved_fen=amount,
        approved_on=data.approved_on,
        annual_rate=data.annual_interest_rate,
    )


def _disbursed(f: Figures, data: Disbursed, to: LoanState, bounds: Bounds) -> Figures | Refusal:
    amount = to_fen(data.amount)
    if amount > f.approved_fen:
        return Refusal(
            "amount-exceeds-approval",
            "放款金额超过批准金额",
            "disbursed amount above the approved amount",
        )
    if data.maturity_on <= data.disbursed_on:
        return Refusal("maturity-before-disbursement", "到期日须晚于放款日", "maturity must follow")
    latest = add_months(data.disbursed_on, bounds.term_months) + timedelta(
        days=bounds.maturity_grace_days
    )
    if data.maturity_on > latest:
        return Refusal(
            "maturity-beyond-term",
            f"到期日 {data.maturity_on} 晚于放款日加贷款期限 {bounds.term_months} 个月"
            f"（另宽限 {bounds.maturity_grace_days} 天）的 {latest}",
            f"maturity_on {data.maturity_on} is after {latest} (disbursal + term + grace)",
        )
    return replace(
        f, state=to, disbursed_fen=amount, outstanding_fen=amount, disbursed_on=data.disbursed_on
    )


def _repayment(f: Figures, data: Repayment, to: LoanState, bounds: Bounds) -> Figures | Refusal:
    principal = to_fen(data.principal)
    if principal > f.outstanding_fen:
        return Refusal(
            "repayment-exceeds-outstanding",
            "还款本金超过未偿本金",
            "repaid principal above the outstanding principal",
        )
    # Kept in date order: the ledger is the same whatever order the repayments arrived in.
    payments = tuple(sorted((*f.payments, (data.paid_on, principal, to_fen(data.interest)))))
    too_much = interest_beyond_bound(f, payments, bounds)
    if too_much is not None:
        return too_much
    # A repayment made before the loan fell overdue, reported late, does not cure it.
    earlier = f.overdue_since is not None and data.paid_on < f.overdue_since
    return replace(
        f,
        state=f.state if earlier else to,
        overdue_since=f.overdue_since if earlier else None,
        outstanding_fen=f.outstanding_fen - principal,
        repaid_fen=f.repaid_fen + principal,
        interest_paid_fen=f.interest_paid_fen + to_fen(data.interest),
        payments=payments,
    )


def _overdue(f: Figures, data: Overdue, to: LoanState) -> Figures | Refusal:
    if to_fen(data.overdue_principal) > f.outstanding_fen:
        return Refusal(
            "overdue-exceeds-outstanding",
            "逾期本金超过未偿本金",
            "overdue principal above the outstanding principal",
        )
    return replace(f, state=to, overdue_since=data.since, ever_overdue=True)


def _defaulted(f: Figures, data: Defaulted, to: LoanState, bounds: Bounds) -> Figures | Refusal:
    mismatch = _outstanding_mismatch(f, data.outstanding_principal, "违约时报告的")
    unearned = interest_due_beyond_bound(f, data.interest_due, data.defaulted_on, bounds)
    return mismatch or unearned or replace(f, state=to, defaulted_on=data.defaulted_on)


def _claim_submitted(
    f: Figures, data: ClaimSubmitted, to: LoanState, bounds: Bounds
) -> Figures | Refusal:
    mismatch = _outstanding_mismatch(f, data.outstanding_principal, "代偿申请的")
    unearned = interest_due_beyond_bound(f, data.interest_due, data.submitted_on, bounds)
    return mismatch or unearned or replace(f, state=to, claim_status="pending")


def _recovered(f: Figures, data: Recovered, to: LoanState) -> Figures | Refusal:
    if f.state is LoanState.DEFAULTED and f.claim_status is None:
        # How it is shared depends on the claim: wait for its decision.
        return Refusal(
            "claim-not-decided",
            "代偿申请尚未决定，追偿款待决定后分配",
            "waiting for the claim's decision",
            may_fit_later=True,
        )
    return replace(f, state=to, recovered_fen=f.recovered_fen + to_fen(data.amount))


def _settled(f: Figures, data: Settled, to: LoanState) -> Figures | Refusal:
    interest = to_fen(data.interest_paid_total)
    if f.interest_paid_fen > interest:
        return Refusal(
            "interest-mismatch",
            "结清时报告的利息合计少于台账已收利息",
            "interest_paid_total below the interest already reported",
        )
    if f.outstanding_fen != 0 or f.interest_paid_fen != interest:
        # Repayments still on their way: settle once they are all in.
        return Refusal(
            "outstanding-not-zero",
            "仍有未偿本金或未到的还款，暂不能结清",
            "outstanding principal or repayments still to come",
            may_fit_later=True,
        )
    return replace(f, state=to)


# What each event does to the figures (an event not listed only moves the state: declined).
_EFFECTS: dict[type[EventData], Callable[[Figures, Any, LoanState], Figures | Refusal]] = {
    Approved: _approved,
    Overdue: _overdue,
    Recovered: _recovered,
    Settled: _settled,
}
# … and those that need the bounds too.
_BOUNDED: dict[type[EventData], Callable[[Figures, Any, LoanState, Bounds], Figures | Refusal]] = {
    Disbursed: _disbursed,
    Repayment: _repayment,
    Defaulted: _defaulted,
    ClaimSubmitted: _claim_submitted,
}


def apply(figures: Figures, event_type: str, data: EventData, bounds: Bounds) -> Figures | Refusal:
    """The loan after ``event_type``; a :class:`Refusal` if its dates or amounts do not fit."""
    _, to = RULES[event_type]
    wrong_day = misdated(figures, data, bounds)
    if wrong_day is not None:
        return wrong_day
    if type(data) in _BOUNDED:
        return _BOUNDED[type(data)](figures, data, to, bounds)
    effect = _EFFECTS.get(type(data))
    return effect(figures, data, to) if effect is not None else replace(figures, state=to)
