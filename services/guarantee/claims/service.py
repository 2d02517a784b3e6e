"""Claims (代偿) on guarantees in force: taken for review when the gateway files them (inside
the policy's window), topped up as the batch's ceiling grows, and the recoveries after a
payout (claims/rules.py has the arithmetic; claims/review.py the fund's decision and
payment). Never commits.

Claims of one batch are filed and decided one at a time under a lock on the batch's
compensation account, so concurrent claims never pass the ceiling together.
"""

import uuid
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from services.guarantee.claims import repository as repo
from services.guarantee.claims.exceptions import (
    ClaimConflict,
    ClaimInvalid,
    ClaimNotFound,
    ClaimTooEarly,
    ClaimTooLate,
    RecoveryConflict,
)
from services.guarantee.claims.rules import (
    ceiling_of,
    claim_base,
    formula_reasons,
    fund_share_of,
    top_ups,
    untimely,
)
from services.guarantee.claims.schemas import ClaimPage, ClaimPublic
from services.guarantee.guarantees import service as guarantees
from services.guarantee.guarantees.exceptions import GuaranteeNotFound
from services.guarantee.models import AuditEntry, Claim, Guarantee, Recovery
from services.guarantee.policies import service as policies
from services.guarantee.policies.document import ClaimTerms
from shared import audit
from shared.clock import utcnow
from shared.contracts.claims import (
    ClaimDecision,
    ClaimOutcome,
    ClaimReason,
    ClaimReceipt,
    ClaimRequest,
    ClaimStatus,
    ClaimTopUps,
    RecoveryReport,
    RecoveryShare,
)
from shared.money import from_fen, to_fen


def allowed_of(claim: Claim) -> int:
    """What the decision allows (before the ceiling): claimable unless reduced or denied."""
    return claim.claimable_fen if claim.allowed_fen is None else claim.allowed_fen


def decision_of(claim: Claim) -> ClaimDecision:
    """The claim as it stands, in the shape the gateway and the bank receive."""
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
        refused=from_fen(allowed_of(claim) - claim.payout_fen if claim.decided_at else 0),
        ceiling_amount=from_fen(claim.ceiling_fen),
        batch_compensation_after=from_fen(claim.batch_paid_after_fen),
        reasons=[ClaimReason.model_validate(r) for r in claim.reasons],
        decided_at=claim.decided_at or claim.submitted_at,
        status=ClaimStatus(claim.status),
        decision_reason=claim.decision_reason,
        paid=from_fen(claim.paid_fen),
        paid_on=claim.paid_on,
        payment_reference=claim.payment_reference,
    )


def _receipt(claim: Claim) -> ClaimReceipt:
    return ClaimReceipt(
        loan_id=claim.loan_id,
        claim_id=claim.id,
        status=ClaimStatus(claim.status),
        submitted_at=claim.submitted_at,
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


def public(claim: Claim, recoveries: list[Recovery]) -> ClaimPublic:
    return ClaimPublic(
        **decision_of(claim).model_dump(),
        id=claim.id,
        bank_code=claim.bank_code,
        submitted_at=claim.submitted_at,
        submitted_on=claim.request.get("submitted_on"),
        reviewer=claim.reviewer,
        recommendation=claim.recommendation,
        recommended_by=claim.recommended_by,
        reduced_to=from_fen(claim.reduced_to_fen) if claim.reduced_to_fen is not None else None,
        decided_by=claim.decided_by,
        paid_by=claim.paid_by,
        recovered=from_fen(claim.recovered_fen),
        fund_recovered=from_fen(claim.fund_recovered_fen),
        bank_recovered=from_fen(claim.recovered_fen - claim.fund_recovered_fen),
        recoveries=[_share(r, claim) for r in recoveries],
    )


async def _claimed_guarantee(session: AsyncSession, request: ClaimRequest) -> Guarantee:
    """The guarantee the claim is on, if the claim fits it."""
    guarantee = await guarantees.for_loan(session=session, loan_id=request.loan_id)
    if guarantee is None:
        raise GuaranteeNotFound(f"贷款 {request.loan_id} 没有备案的担保，不能代偿")
    if guarantee.batch_id != request.batch_id:
        raise ClaimInvalid(f"贷款 {request.loan_id} 的担保不属于批次 {request.batch_id}")
    if to_fen(request.outstanding_principal) > guarantee.principal_fen:
        raise ClaimInvalid(
            f"申报未偿本金 {request.outstanding_principal} 元超过放款本金"
            f" {from_fen(guarantee.principal_fen)} 元"
        )
    return guarantee


async def ceiling_base(session: AsyncSession, request: ClaimRequest) -> int:
    """What the batch's ceiling is a share of: its quota when the policy fixes it, else the
    principal filed in it so far."""
    if request.ceiling_base_amount is not None:
        return to_fen(request.ceiling_base_amount)
    return await guarantees.guaranteed_volume(session=session, batch_id=request.batch_id)


async def claim_terms(
    session: AsyncSession, guarantee_policy_id: uuid.UUID
) -> tuple[ClaimTerms, str, int]:
    """(the guarantee's policy version's claim terms, its name for messages, its basis)."""
    policy = await policies.get_version(session=session, policy_id=guarantee_policy_id)
    terms = ClaimTerms.model_validate(policy.document.get("claims", {}))
    basis = int(policy.document.get("terms", {}).get("day_count_basis", 360))
    return terms, f"《{policy.name}》第 {policy.version} 版", basis


async def file(*, session: AsyncSession, request: ClaimRequest) -> tuple[ClaimReceipt, bool]:
    """Take the loan's claim for the fund's review, once; (receipt, taken now). Refused —
    nothing stored — when it does not fit the guarantee or the policy's window."""
    facts = request.model_dump(mode="json")
    guarantee = await _claimed_guarantee(session, request)
    # Locked first, looked up second: a second filing of the same claim waits here and then
    # finds the first one.
    await repo.lock_batch_compensation(session=session, batch_id=request.batch_id)
    existing = await repo.claim_for_loan(session=session, loan_id=request.loan_id)
    if existing is not None:
        if existing.request != facts:
            raise ClaimConflict(f"贷款 {request.loan_id} 已按不同内容申请代偿")
        return _receipt(existing), False
    terms, policy_zh, basis = await claim_terms(session, guarantee.policy_version_id)
    _check_timing(request, terms, policy_zh)
    coverage = Decimal(guarantee.coverage_ratio)
    _, recognised, claimable = claim_base(
        outstanding_fen=to_fen(request.outstanding_principal),
        interest_due_fen=to_fen(request.interest_due),
        coverage=coverage,
        annual_rate=request.annual_interest_rate,
        cap_days=terms.interest_cap_days,
        basis=basis,
    )
    why = formula_reasons(
        request,
        recognised_fen=recognised,
        claimable_fen=claimable,
        cap_days=terms.interest_cap_days,
        coverage=coverage,
    )
    claim = Claim(
        loan_id=request.loan_id,
        guarantee_id=guarantee.id,
        batch_id=request.batch_id,
        bank_code=request.bank_code,
        request=facts,
        coverage_ratio=guarantee.coverage_ratio,
        outstanding_fen=to_fen(request.outstanding_principal),
        interest_due_fen=to_fen(request.interest_due),
        interest_recognised_fen=recognised,
        claimable_fen=claimable,
        ceiling_rate=str(request.compensation_ceiling),
        reasons=[r.model_dump() for r in why],
    )
    repo.add(session, claim)
    await session.flush()
    audit.append(
        session,
        AuditEntry,
        actor="service:bank_gateway",
        action="claim.submitted",
        entity_type="claim",
        entity_id=str(claim.id),
        detail={"loan_id": str(request.loan_id), "claimable": str(from_fen(claimable))},
        entity=claim,
        created=True,
    )
    return _receipt(claim), True


def _check_timing(request: ClaimRequest, terms: ClaimTerms, policy_zh: str) -> None:
    """Refuse a claim filed outside the policy's window, in the policy's words."""
    finding = untimely(
        submitted_on=request.submitted_on,
        overdue_since=request.overdue_since,
        defaulted_on=request.defaulted_on,
        min_days_overdue=terms.min_days_overdue,
        deadline_days=terms.filing_deadline_days,
        policy_zh=policy_zh,
    )
    if finding is None:
        return
    raise {"too_early": ClaimTooEarly, "too_late": ClaimTooLate}.get(finding.code, ClaimInvalid)(
        finding.message_zh
    )


async def top_up(*, session: AsyncSession, batch_id: uuid.UUID) -> ClaimTopUps:
    """Pay what the batch's ceiling now allows of the claims it cut, oldest first, and
    answer with every claim it ever cut as it stands. Under the batch's lock, like a new
    claim; asked again, it pays nothing more until the room grows."""
    account = await repo.lock_batch_compensation(session=session, batch_id=batch_id)
    cut = list(await repo.cut_claims(session=session, batch_id=batch_id))
    open_ = [c for c in cut if c.payout_fen < allowed_of(c)]
    volume = (
        await ceiling_base(session, ClaimRequest.model_validate(open_[0].request)) if open_ else 0
    )
    topped = 0
    if open_:
        ceiling = ceiling_of(volume, Decimal(open_[0].ceiling_rate))
        room = max(0, ceiling - account.paid_fen)
        remainders = [allowed_of(c) - c.payout_fen for c in open_]
        for claim, paid in zip(open_, top_ups(remainders, room), strict=True):
            if paid:
                _topped_up(session, claim, paid, ceiling=ceiling, volume=volume)
                account.paid_fen += paid
                claim.batch_paid_after_fen = account.paid_fen
                topped += paid
        account.updated_at = utcnow()
    return ClaimTopUps(
        batch_id=batch_id, topped_up=from_fen(topped), decisions=[decision_of(c) for c in cut]
    )


def _topped_up(
    session: AsyncSession, claim: Claim, paid_fen: int, *, ceiling: int, volume: int
) -> None:
    claim.payout_fen += paid_fen
    claim.ceiling_fen = ceiling
    claim.outcome = (
        ClaimOutcome.PAID if claim.payout_fen == allowed_of(claim) else ClaimOutcome.PARTIALLY_PAID
    ).value
    if claim.status == ClaimStatus.PAID:
        # More is committed than was paid: the fund pays the top-up next.
        claim.status = (
            ClaimStatus.REDUCED if claim.recommendation == "reduce" else ClaimStatus.APPROVED
        ).value
    left = allowed_of(claim) - claim.payout_fen
    claim.reasons = [
        *claim.reasons,
        ClaimReason(
            code="topped_up",
            message_zh=(
                f"批次担保总额增至 {from_fen(volume):,} 元，代偿上限增至 {from_fen(ceiling):,} 元："
                f"追加代偿 {from_fen(paid_fen):,} 元，累计代偿 {from_fen(claim.payout_fen):,} 元"
                + (f"，尚有 {from_fen(left):,} 元待上限增加后代偿" if left else "")
            ),
            message_en=(
                f"the batch's volume grew to {from_fen(volume)}, its ceiling to "
                f"{from_fen(ceiling)}: {from_fen(paid_fen)} more paid, {from_fen(claim.payout_fen)}"
                f" in all, {from_fen(left)} still open"
            ),
        ).model_dump(),
    ]
    audit.append(
        session,
        AuditEntry,
        actor="service:bank_gateway",
        action="claim.topped_up",
        entity_type="claim",
        entity_id=str(claim.id),
        detail={
            "loan_id": str(claim.loan_id),
            "topped_up": str(from_fen(paid_fen)),
            "payout": str(from_fen(claim.payout_fen)),
            "ceiling": str(from_fen(ceiling)),
        },
        entity=claim,
    )


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
    audit.append(
        session,
        AuditEntry,
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
    return public(claim, list(await repo.recoveries_of(session=session, claim_ids=[claim.id])))


async def list_claims(
    *,
    session: AsyncSession,
    batch_id: uuid.UUID | None,
    outcome: ClaimOutcome | None,
    statuses: list[ClaimStatus],
    offset: int,
    limit: int,
) -> ClaimPage:
    rows, total = await repo.list_claims(
        session=session,
        batch_id=batch_id,
        outcome=outcome.value if outcome else None,
        statuses=[s.value for s in statuses],
        offset=offset,
        limit=limit,
    )
    recoveries: dict[uuid.UUID, list[Recovery]] = {r.id: [] for r in rows}
    for recovery in await repo.recoveries_of(session=session, claim_ids=list(recoveries)):
        recoveries[recovery.claim_id].append(recovery)
    return ClaimPage(
        items=[public(r, recoveries[r.id]) for r in rows], total=total, offset=offset, limit=limit
    )
