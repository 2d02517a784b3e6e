"""What a claim (代偿) pays and how a recovery is shared: pure arithmetic in fen.

A claim is decided when the gateway files it (DESIGN.md §4):

    interest recognised = min(interest due, outstanding × loan rate × cap days / basis)
    claimable           = coverage × (outstanding principal + interest recognised)
    payout              = min(claimable, ceiling − compensation already paid in the batch)
    ceiling             = batch's compensation ceiling × its guaranteed volume

each amount rounded half-up to the fen. What the ceiling does not allow is refused with
the reason. Claims of one batch are decided one at a time under a lock on the batch's
compensation account, so concurrent claims never pass the ceiling together.

A claim the ceiling cut keeps its remainder open: when the batch's guaranteed volume grows
(a later loan filed), the room the ceiling gains pays the open remainders, oldest claim
first (:func:`top_ups`).

Recoveries after a payout are shared pro rata: the fund's part of all recovered so far is
``recovered × payout ÷ (outstanding + interest recognised)``, never more than the payout;
each recovery's share is the growth of that running figure, so the shares always add up
to the amounts and do not depend on how the recoveries were cut.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from shared.contracts.claims import ClaimOutcome, ClaimReason, ClaimRequest
from shared.money import from_fen, to_fen


@dataclass(frozen=True)
class Untimely:
    """A claim filed outside the policy's window: ``code`` is ``too_early`` (it may be filed
    again from ``again_on``) or ``too_late`` or ``undated``; ``message_zh`` quotes the rule."""

    code: str
    message_zh: str
    again_on: date | None = None


def untimely(
    *,
    submitted_on: date,
    overdue_since: date | None,
    defaulted_on: date | None,
    min_days_overdue: int,
    deadline_days: int,
    policy_zh: str,
) -> Untimely | None:
    """Whether a claim filed on ``submitted_on`` is outside the policy's window: at least
    ``min_days_overdue`` days after the loan fell overdue, at most ``deadline_days`` after
    the default. None when it is inside."""
    if overdue_since is None or defaulted_on is None:
        return Untimely("undated", "代偿申请缺少逾期日或违约日，无法按政策核对申请时限")
    if submitted_on < defaulted_on:
        return Untimely("undated", f"代偿申请日 {submitted_on} 早于违约日 {defaulted_on}")
    overdue_days = (submitted_on - overdue_since).days
    if overdue_days < min_days_overdue:
        again = overdue_since + timedelta(days=min_days_overdue)
        return Untimely(
            "too_early",
            f"{policy_zh}规定贷款逾期满 {min_days_overdue} 天方可申请代偿：本笔贷款自"
            f" {overdue_since} 起逾期，至申请日 {submitted_on} 仅 {overdue_days} 天，"
            f"{again} 起可再申请",
            again_on=again,
        )
    last_day = defaulted_on + timedelta(days=deadline_days)
    if submitted_on > last_day:
        return Untimely(
            "too_late",
            f"{policy_zh}规定代偿申请须在宣布违约之日起 {deadline_days} 天内提出：本笔贷款"
            f" {defaulted_on} 违约，申请截止日为 {last_day}，"
            f"申请日 {submitted_on} 已过期限，不予受理",
        )
    return None


def _fen(amount: Decimal) -> int:
    """A computed amount in fen (may be fractional), rounded half-up."""
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class ClaimFigures:
    interest_cap_fen: int
    interest_recognised_fen: int
    claimable_fen: int
    ceiling_fen: int
    payout_fen: int

    @property
    def refused_fen(self) -> int:
        return self.claimable_fen - self.payout_fen

    @property
    def outcome(self) -> ClaimOutcome:
        if self.refused_fen == 0:
            return ClaimOutcome.PAID
        return ClaimOutcome.PARTIALLY_PAID if self.payout_fen > 0 else ClaimOutcome.REFUSED


def claim_figures(
    *,
    outstanding_fen: int,
    interest_due_fen: int,
    coverage: Decimal,
    annual_rate: Decimal,
    cap_days: int,
    basis: int,
    volume_fen: int,
    ceiling_rate: Decimal,
    paid_before_fen: int,
) -> ClaimFigures:
    """The payout of one claim, all in fen."""
    interest_cap, recognised, claimable = claim_base(
        outstanding_fen=outstanding_fen,
        interest_due_fen=interest_due_fen,
        coverage=coverage,
        annual_rate=annual_rate,
        cap_days=cap_days,
        basis=basis,
    )
    ceiling = ceiling_of(volume_fen, ceiling_rate)
    room = max(ceiling - paid_before_fen, 0)
    return ClaimFigures(
        interest_cap_fen=interest_cap,
        interest_recognised_fen=recognised,
        claimable_fen=claimable,
        ceiling_fen=ceiling,
        payout_fen=min(claimable, room),
    )


def claim_base(
    *,
    outstanding_fen: int,
    interest_due_fen: int,
    coverage: Decimal,
    annual_rate: Decimal,
    cap_days: int,
    basis: int,
) -> tuple[int, int, int]:
    """(interest cap, interest recognised, claimable) of a claim, in fen: what the formula
    gives before the fund's review and the batch's ceiling."""
    interest_cap = _fen(Decimal(outstanding_fen) * annual_rate * cap_days / basis)
    recognised = min(interest_due_fen, interest_cap)
    return interest_cap, recognised, _fen(coverage * (outstanding_fen + recognised))


def ceiling_of(volume_fen: int, ceiling_rate: Decimal) -> int:
    """The batch's compensation ceiling: its guaranteed volume × the policy's rate."""
    return _fen(Decimal(volume_fen) * ceiling_rate)


def top_ups(remainders: list[int], room_fen: int) -> list[int]:
    """What the room pays of each open remainder, oldest claim first: a claim cut by the
    ceiling keeps its remainder open and is paid as the room grows, so what each claim
    gets in the end does not depend on the order the claims came in."""
    paid = []
    for remainder in remainders:
        now = max(0, min(remainder, room_fen))
        paid.append(now)
        room_fen -= now
    return paid


def fund_share_of(*, recovered_fen: int, payout_fen: int, base_fen: int) -> int:
    """The fund's part of ``recovered_fen`` recovered in all, after paying ``payout_fen`` on a
    loss of ``base_fen`` (principal + interest recognised)."""
    if payout_fen <= 0 or base_fen <= 0:
        return 0
    return min(payout_fen, _fen(Decimal(recovered_fen) * payout_fen / base_fen))


def _yuan(fen: int) -> str:
    return f"{from_fen(fen):,}"


def reasons(
    figures: ClaimFigures,
    claim: ClaimRequest,
    *,
    cap_days: int,
    coverage: Decimal,
    paid_before_fen: int,
    volume_fen: int,
    base_zh: str = "担保总额",
) -> list[ClaimReason]:
    why = formula_reasons(
        claim,
        recognised_fen=figures.interest_recognised_fen,
        claimable_fen=figures.claimable_fen,
        cap_days=cap_days,
        coverage=coverage,
    )
    if figures.refused_fen:
        why.append(
            ceiling_reason(
                ceiling_fen=figures.ceiling_fen,
                rate=claim.compensation_ceiling,
                paid_before_fen=paid_before_fen,
                payout_fen=figures.payout_fen,
                refused_fen=figures.refused_fen,
                volume_fen=volume_fen,
                base_zh=base_zh,
            )
        )
    return why


def formula_reasons(
    claim: ClaimRequest,
    *,
    recognised_fen: int,
    claimable_fen: int,
    cap_days: int,
    coverage: Decimal,
) -> list[ClaimReason]:
    """How the formula reached the claimable amount: interest capped, coverage."""
    reasons = []
    interest_due = to_fen(claim.interest_due)
    if recognised_fen < interest_due:
        reasons.append(
            ClaimReason(
                code="interest_capped",
                message_zh=(
                    f"利息按不超过 {cap_days} 天计算：认可 {_yuan(recognised_fen)}"
                    f" 元（申报 {_yuan(interest_due)} 元）"
                ),
                message_en=(
                    f"interest counted for at most {cap_days} days: "
                    f"{from_fen(recognised_fen)} of {claim.interest_due}"
                ),
            )
        )
    percent = (coverage * 100).normalize()
    reasons.append(
        ClaimReason(
            code="coverage",
            message_zh=f"按担保比例 {percent:f}% 代偿本金与利息：应代偿 {_yuan(claimable_fen)} 元",
            message_en=f"{percent:f}% of principal and interest: {from_fen(claimable_fen)}",
        )
    )
    return reasons


def ceiling_reason(
    *,
    ceiling_fen: int,
    rate: Decimal,
    paid_before_fen: int,
    payout_fen: int,
    refused_fen: int,
    volume_fen: int,
    base_zh: str,
) -> ClaimReason:
    """Why the batch's ceiling cut the payout, with its figures. On a fixed base (the
    batch's quota) the rest is refused; on the principal filed, it waits for the ceiling to
    grow with the batch's next filings (a top-up)."""
    ceiling_pct = f"{(rate * 100).normalize():f}"
    ceiling, paid = _yuan(ceiling_fen), _yuan(paid_before_fen)
    payout, refused = _yuan(payout_fen), _yuan(refused_fen)
    rest = "不予代偿" if base_zh == "批次额度" else "暂不予代偿，待批次备案本金增加、上限提高后补足"
    return ClaimReason(
        code="compensation_ceiling",
        message_zh=(
            f"批次代偿上限为 {ceiling} 元（{base_zh} {_yuan(volume_fen)} 元 ×"
            f" {ceiling_pct}%），此前已代偿 {paid} 元：本次代偿 {payout} 元，"
            f"其余 {refused} 元{rest}"
        ),
        message_en=(
            f"the batch's compensation ceiling is {ceiling} ({ceiling_pct}% of"
            f" {_yuan(volume_fen)}) with {paid} already paid: {payout} paid,"
            f" {refused} refused"
        ),
    )
