"""Claims (代偿) on guarantees in force, and recoveries after them. Never commits.

A claim is decided when the gateway files it (DESIGN.md §4):

    interest recognised = min(interest due, outstanding × loan rate × cap days / basis)
    claimable           = coverage × (outstanding principal + interest recognised)
    payout              = min(claimable, ceiling − compensation already paid in the batch)
    ceiling             = batch's compensation ceiling × its guaranteed volume

each amount rounded half-up to the fen. What the ceiling does not allow is refused with
the reason. Claims of one batch are decided one at a time under a lock on the batch's
compensation account, so concurrent claims never pass the ceiling together.

Recoveries after a payout are shared pro rata: the fund's part of all recovered so far is
``recovered × payout ÷ (outstanding + interest recognised)``, never more than the payout;
each recovery's share is the growth of that running figure, so the shares always add up
to the amounts and do not depend on how the recoveries were cut.
"""

import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from services.guarantee import repository as repo
from services.guarantee.exceptions import (
    ClaimConflict,
    ClaimInvalid,
    ClaimNotFound,
    GuaranteeNotFound,
    RecoveryConflict,
)
from services.guarantee.models import Claim, ClaimPage, ClaimPublic, Recovery
from shared.clock import utcnow
from shared.contracts.claims import (
    ClaimDecision,
    ClaimOutcome,
    ClaimReason,
    ClaimRequest,
    RecoveryReport,
    RecoveryShare,
)
from shared.money import from_fen, to_fen


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
    interest_cap = _fen(Decimal(outstanding_fen) * annual_rate * cap_days / basis)
    recognised = min(interest_due_fen, interest_cap)
    claimable = _fen(coverage * (outstanding_fen + recognised))
    ceiling = _fen(Decimal(volume_fen) * ceiling_rate)
    room = max(ceiling - paid_before_fen, 0)
    return ClaimFigures(
        interest_cap_fen=interest_cap,
        interest_recognised_fen=recognised,
        claimable_fen=claimable,
        ceiling_fen=ceiling,
        payout_fen=min(claimable, room),
    )


def fund_share_of(*, recovered_fen: int, payout_fen: int, base_fen: int) -> int:
    """The fund's part of ``recovered_fen`` recovered in all, after paying ``payout_fen`` on a
    loss of ``base_fen`` (principal + interest recognised)."""
    if payout_fen <= 0 or base_fen <= 0:
        return 0
    return min(payout_fen, _fen(Decimal(recovered_fen) * payout_fen / base_fen))


def _yuan(fen: int) -> str:
    return f"{from_fen(fen):,}"


def _reasons(
    figures: ClaimFigures,
    claim: ClaimRequest,
    *,
    cap_days: int,
    coverage: Decimal,
    paid_before_fen: int,
    volume_fen: int,
) -> list[ClaimReason]:
    reasons = []
    interest_due = to_fen(claim.interest_due)
    if figures.interest_recognised_fen < interest_due:
        reasons.append(
            ClaimReason(
                code="interest_capped",
                message_zh=(
                    f"利息按不超过 {cap_days} 天计算：认可 {_yuan(figures.interest_recognised_fen)}"
                    f" 元（申报 {_yuan(interest_due)} 元）"
                ),
                message_en=(
                    f"interest counted for at most {cap_days} days: "
                    f"{from_fen(figures.interest_recognised_fen)} of {claim.interest_due}"
                ),
            )
        )
    percent = (coverage * 100).normalize()
    reasons.append(
        ClaimReason(
            code="coverage",
            message_zh=(
                f"按担保比例 {percent:f}% 代偿本金与利息：应代偿 {_yuan(figures.claimable_fen)} 元"
            ),
            message_en=f"{percent:f}% of principal and interest: {from_fen(figures.claimable_fen)}",
        )
    )
    if figures.refused_fen:
        ceiling_pct = f"{(claim.compensation_ceiling * 100).normalize():f}"
        ceiling, paid = _yuan(figures.ceiling_fen), _yuan(paid_before_fen)
        payout, refused = _yuan(figures.payout_fen), _yuan(figures.refused_fen)
        reasons.append(
            ClaimReason(
                code="compensation_ceiling",
                message_zh=(
                    f"批次代偿上限为 {ceiling} 元（担保总额 {_yuan(volume_fen)} 元 ×"
                    f" {ceiling_pct}%），此前已代偿 {paid} 元：本次代偿 {payout} 元，"
                    f"其余 {refused} 元不予代偿"
                ),
                message_en=(
                    f"the batch's compensation ceiling is {ceiling} ({ceiling_pct}% of"
                    f" {_yuan(volume_fen)}) with {paid} already paid: {payout} paid,"
                    f" {refused} refused"
                ),
            )
        )
    return reasons


def _decision(claim: Claim) -> ClaimDecision:
    request = ClaimRequest.model_validate(claim.request)
    return ClaimDecision(
        loan_id=claim.loan_id,
        batch_id=claim.batch_id,
        outcome=ClaimOutcome(claim.outcome),
        coverage_ratio=Decimal(claim.coverage_ratio),
        outstanding_principal=from_fen(claim.outstanding_fen),
        interest_due=request.interest_due,
        interest_recognised=from_fen(claim.interest_recognised_fen),
        claimable=from_fen(claim.claimable_fen),
        payout=from_fen(claim.payout_fen),
        refused=from_fen(claim.claimable_fen - claim.payout_fen),
        ceiling_amount=from_fen(claim.ceiling_fen),
        batch_compensation_after=from_fen(claim.batch_paid_after_fen),
        reasons=[ClaimReason.model_validate(r) for r in claim.reasons],
        decided_at=claim.decided_at,
    )


def _share(recovery: Recovery, claim: Claim) -> RecoveryShare:
    return RecoveryShare(
        recovery_id=recovery.id,
        loan_id=recovery.loan_id,
        amount=from_fen(recovery.amount_fen),
        fund_share=from_fen(recovery.fund_share_fen),
        bank_share=from_fen(recovery.bank_share_fen),
        fund_recovered_total=from_fen(claim.fund_recovered_fen),
        bank_recovered_total=from_fen(claim.recovered_fen - claim.fund_recovered_fen),
        recovered_on=recovery.recovered_on,
    )


def _public(claim: Claim, recoveries: list[Recovery]) -> ClaimPublic:
    return ClaimPublic(
        **_decision(claim).model_dump(),
        id=claim.id,
        bank_code=claim.bank_code,
        recovered=from_fen(claim.recovered_fen),
        fund_recovered=from_fen(claim.fund_recovered_fen),
        bank_recovered=from_fen(claim.recovered_fen - claim.fund_recovered_fen),
        recoveries=[_share(r, claim) for r in recoveries],
    )


async def decide(*, session: AsyncSession, request: ClaimRequest) -> tuple[ClaimDecision, bool]:
    """The decision on this loan's claim, made now or before; (decision, made now)."""
    facts = request.model_dump(mode="json")
    guarantee = await repo.guarantee_for_loan(session=session, loan_id=request.loan_id)
    if guarantee is None:
        raise GuaranteeNotFound(f"贷款 {request.loan_id} 没有备案的担保，不能代偿")
    if guarantee.batch_id != request.batch_id:
        raise ClaimInvalid(f"贷款 {request.loan_id} 的担保不属于批次 {request.batch_id}")
    outstanding = to_fen(request.outstanding_principal)
    if outstanding > guarantee.principal_fen:
        raise ClaimInvalid(
            f"申报未偿本金 {request.outstanding_principal} 元超过放款本金"
            f" {from_fen(guarantee.principal_fen)} 元"
        )
    # Locked first, looked up second: a second filing of the same claim waits here and then
    # finds the first one's decision.
    account = await repo.lock_batch_compensation(session=session, batch_id=request.batch_id)
    existing = await repo.claim_for_loan(session=session, loan_id=request.loan_id)
    if existing is not None:
        if existing.request != facts:
            raise ClaimConflict(f"贷款 {request.loan_id} 已按不同内容申请代偿")
        return _decision(existing), False

    policy = await repo.get_policy(session=session, policy_id=guarantee.policy_version_id)
    assert policy is not None
    cap_days = int(policy.document.get("claims", {}).get("interest_cap_days", 90))
    basis = int(policy.document.get("terms", {}).get("day_count_basis", 360))
    coverage = Decimal(guarantee.coverage_ratio)
    volume = await repo.guaranteed_volume(session=session, batch_id=request.batch_id)
    paid_before = account.paid_fen
    figures = claim_figures(
        outstanding_fen=outstanding,
        interest_due_fen=to_fen(request.interest_due),
        coverage=coverage,
        annual_rate=request.annual_interest_rate,
        cap_days=cap_days,
        basis=basis,
        volume_fen=volume,
        ceiling_rate=request.compensation_ceiling,
        paid_before_fen=paid_before,
    )
    now = utcnow()
    account.paid_fen = paid_before + figures.payout_fen
    account.updated_at = now
    claim = Claim(
        loan_id=request.loan_id,
        guarantee_id=guarantee.id,
        batch_id=request.batch_id,
        bank_code=request.bank_code,
        request=facts,
        outcome=figures.outcome.value,
        coverage_ratio=guarantee.coverage_ratio,
        outstanding_fen=outstanding,
        interest_due_fen=to_fen(request.interest_due),
        interest_recognised_fen=figures.interest_recognised_fen,
        claimable_fen=figures.claimable_fen,
        payout_fen=figures.payout_fen,
        ceiling_rate=str(request.compensation_ceiling),
        ceiling_fen=figures.ceiling_fen,
        batch_paid_after_fen=account.paid_fen,
        reasons=[
            r.model_dump()
            for r in _reasons(
                figures,
                request,
                cap_days=cap_days,
                coverage=coverage,
                paid_before_fen=paid_before,
                volume_fen=volume,
            )
        ],
        decided_at=now,
    )
    repo.add(session, claim)
    await session.flush()
    await repo.audit(
        session=session,
        actor="service:bank_gateway",
        action=f"claim.{figures.outcome.value}",
        entity_type="claim",
        entity_id=str(claim.id),
        detail={
            "loan_id": str(request.loan_id),
            "batch_id": str(request.batch_id),
            "claimable": str(from_fen(figures.claimable_fen)),
            "payout": str(from_fen(figures.payout_fen)),
            "ceiling": str(from_fen(figures.ceiling_fen)),
        },
        entity=claim,
        created=True,
    )
    return _decision(claim), True


async def record_recovery(
    *, session: AsyncSession, loan_id: uuid.UUID, report: RecoveryReport
) -> tuple[RecoveryShare, bool]:
    """Split a recovery between fund and bank; (the split, recorded now)."""
    claim = await repo.claim_for_loan(session=session, loan_id=loan_id, for_update=True)
    if claim is None:
        raise ClaimNotFound(f"贷款 {loan_id} 没有代偿记录")
    existing = await repo.get_recovery(session=session, recovery_id=report.recovery_id)
    if existing is not None:
        if (
            existing.loan_id != loan_id
            or existing.amount_fen != to_fen(report.amount)
            or existing.recovered_on != report.recovered_on
        ):
            raise RecoveryConflict(f"追偿 {report.recovery_id} 已按不同内容登记")
        return _share(existing, claim), False
    base = claim.outstanding_fen + claim.interest_recognised_fen
    fund_before = claim.fund_recovered_fen
    recovered = claim.recovered_fen + to_fen(report.amount)
    fund_after = fund_share_of(recovered_fen=recovered, payout_fen=claim.payout_fen, base_fen=base)
    recovery = Recovery(
        id=report.recovery_id,
        claim_id=claim.id,
        loan_id=loan_id,
        amount_fen=to_fen(report.amount),
        fund_share_fen=fund_after - fund_before,
        bank_share_fen=to_fen(report.amount) - (fund_after - fund_before),
        recovered_on=report.recovered_on,
    )
    claim.recovered_fen, claim.fund_recovered_fen = recovered, fund_after
    account = await repo.lock_batch_compensation(session=session, batch_id=claim.batch_id)
    account.fund_recovered_fen += recovery.fund_share_fen
    repo.add(session, recovery)
    await session.flush()
    await repo.audit(
        session=session,
        actor="service:bank_gateway",
        action="claim.recovery",
        entity_type="claim",
        entity_id=str(claim.id),
        detail={
            "recovery_id": str(recovery.id),
            "amount": str(report.amount),
            "fund_share": str(from_fen(recovery.fund_share_fen)),
        },
        entity=recovery,
        created=True,
    )
    return _share(recovery, claim), True


async def get(*, session: AsyncSession, loan_id: uuid.UUID) -> ClaimPublic:
    claim = await repo.claim_for_loan(session=session, loan_id=loan_id)
    if claim is None:
        raise ClaimNotFound(f"贷款 {loan_id} 没有代偿记录")
    return _public(claim, list(await repo.recoveries_of(session=session, claim_ids=[claim.id])))


async def list_claims(
    *,
    session: AsyncSession,
    batch_id: uuid.UUID | None,
    outcome: ClaimOutcome | None,
    offset: int,
    limit: int,
) -> ClaimPage:
    rows, total = await repo.list_claims(
        session=session,
        batch_id=batch_id,
        outcome=outcome.value if outcome else None,
        offset=offset,
        limit=limit,
    )
    recoveries: dict[uuid.UUID, list[Recovery]] = {r.id: [] for r in rows}
    for recovery in await repo.recoveries_of(session=session, claim_ids=list(recoveries)):
        recoveries[recovery.claim_id].append(recovery)
    return ClaimPage(
        items=[_public(r, recoveries[r.id]) for r in rows], total=total, offset=offset, limit=limit
    )
