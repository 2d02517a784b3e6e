"""The guarantee fund's review of a claim (代偿), and its payment. Never commits.

A reviewer (role ``fund``) takes a submitted claim and decides it: approve (the formula's
claimable amount), reduce (less, with the reason — what the SBA calls a repair) or deny
(with the reason). When the amount at stake is above the policy's ``second_review_above``,
the decision is a recommendation until a second person of the fund with the approver right
— not the one who recommended it — agrees (or sends it back). Deciding fixes the payout
under the batch's compensation lock: never past its ceiling; what the ceiling cut stays
open and is topped up as the batch grows (claims/service.py). The fund then records the
payment (day, voucher), in full of what is due. Each decision and payment goes to the bank
gateway as a notice (claims/notices.py), written in the same transaction.
"""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.guarantee.claims import documents
from services.guarantee.claims import repository as repo
from services.guarantee.claims import service as claims
from services.guarantee.claims.exceptions import (
    ClaimNotFound,
    ClaimNotReviewable,
    ClaimPaymentInvalid,
    ClaimReviewInvalid,
)
from services.guarantee.claims.rules import ceiling_of, ceiling_reason
from services.guarantee.claims.schemas import (
    ClaimPaymentIn,
    ClaimPublic,
    ClaimReview,
    ClaimRoom,
    SecondReview,
    Verdict,
)
from services.guarantee.guarantees import service as guarantees
from services.guarantee.models import AuditEntry, Claim, ClaimNoticeRow, ClaimPayment
from shared import audit
from shared.auth import APPROVE_PERMISSION, Principal, same_person
from shared.clock import shanghai_date, shanghai_today, utcnow
from shared.contracts.claims import (
    ClaimNotice,
    ClaimOutcome,
    ClaimReason,
    ClaimRequest,
    ClaimStatus,
)
from shared.errors import ApprovePermissionRequired, FourEyesRequired
from shared.money import from_fen, to_fen

OPEN = (ClaimStatus.SUBMITTED, ClaimStatus.UNDER_REVIEW)
STATUS_OF = {
    Verdict.APPROVE: ClaimStatus.APPROVED,
    Verdict.REDUCE: ClaimStatus.REDUCED,
    Verdict.DENY: ClaimStatus.DENIED,
}


async def _claim(session: AsyncSession, loan_id: uuid.UUID) -> Claim:
    claim = await repo.claim_for_loan(session=session, loan_id=loan_id, for_update=True)
    if claim is None:
        raise ClaimNotFound(f"贷款 {loan_id} 没有代偿申请")
    return claim


def _in(claim: Claim, *statuses: ClaimStatus, doing_zh: str) -> None:
    if claim.status not in statuses:
        names = "、".join(STATUS_ZH[s] for s in statuses)
        raise ClaimNotReviewable(
            f"代偿申请{STATUS_ZH[ClaimStatus(claim.status)]}，只有{names}的申请可以{doing_zh}"
        )


STATUS_ZH = {
    ClaimStatus.SUBMITTED: "待审核",
    ClaimStatus.UNDER_REVIEW: "审核中",
    ClaimStatus.AWAITING_SECOND: "待复核",
    ClaimStatus.APPROVED: "已同意代偿",
    ClaimStatus.REDUCED: "已核减代偿",
    ClaimStatus.DENIED: "不予代偿",
    ClaimStatus.PAID: "已支付",
}


async def public(session: AsyncSession, claim: Claim) -> ClaimPublic:
    return claims.public(
        claim, list(await repo.recoveries_of(session=session, claim_ids=[claim.id]))
    )


async def take(*, session: AsyncSession, loan_id: uuid.UUID, principal: Principal) -> ClaimPublic:
    """A reviewer takes the claim (or takes it over from another reviewer)."""
    claim = await _claim(session, loan_id)
    _in(claim, *OPEN, doing_zh="认领审核")
    before = claim.reviewer
    claim.status, claim.reviewer = ClaimStatus.UNDER_REVIEW.value, principal.actor
    _audit(session, claim, principal, "claim.taken", {"from": before})
    return await public(session, claim)


def _checked(review: ClaimReview, claim: Claim) -> int:
    """What the verdict allows, in fen, once the review is complete."""
    if review.verdict is Verdict.APPROVE:
        return claim.claimable_fen
    if not (review.reason or "").strip():
        raise ClaimReviewInvalid("核减或不予代偿须写明理由（将告知银行）")
    if review.verdict is Verdict.DENY:
        return 0
    if review.amount is None or to_fen(review.amount) >= claim.claimable_fen:
        raise ClaimReviewInvalid(
            f"核减后的代偿金额须小于按公式应代偿的 ¥{from_fen(claim.claimable_fen):,}"
        )
    return to_fen(review.amount)


async def decide(
    *, session: AsyncSession, loan_id: uuid.UUID, review: ClaimReview, principal: Principal
) -> ClaimPublic:
    """The reviewer's decision: final at or below the policy's amount, else recommended for a
    second person's confirmation."""
    claim = await _claim(session, loan_id)
    _in(claim, *OPEN, doing_zh="审核")
    allowed = _checked(review, claim)
    terms, _, _ = await claims.claim_terms(session, await _policy_of(session, claim))
    lacking = await documents.missing(session, claim.loan_id, terms)
    if lacking and review.verdict is not Verdict.DENY:
        raise ClaimReviewInvalid(
            f"缺少必需的代偿材料：{'、'.join(lacking)}。材料齐全后方可同意或核减（可不予代偿）"
        )
    claim.reviewer = claim.reviewer or principal.actor
    claim.recommendation = review.verdict.value
    claim.reduced_to_fen = allowed if review.verdict is Verdict.REDUCE else None
    claim.decision_reason = (review.reason or "").strip() or None
    claim.recommended_by = principal.actor
    if claim.claimable_fen > to_fen(terms.second_review_above):
        claim.status = ClaimStatus.AWAITING_SECOND.value
        _audit(session, claim, principal, "claim.recommended", {"verdict": review.verdict.value})
        return await public(session, claim)
    await _conclude(session, claim, principal)
    return await public(session, claim)


async def second(
    *, session: AsyncSession, loan_id: uuid.UUID, answer: SecondReview, principal: Principal
) -> ClaimPublic:
    """The second person agrees (the recommendation is decided) or sends it back."""
    claim = await _claim(session, loan_id)
    _in(claim, ClaimStatus.AWAITING_SECOND, doing_zh="复核")
    if APPROVE_PERMISSION not in principal.permissions:
        raise ApprovePermissionRequired("大额代偿须由有审批权限的担保基金人员复核")
    if same_person(principal, claim.recommended_by):
        raise FourEyesRequired("复核人不能是提出审核意见的同一人（四眼原则）")
    if not answer.agree:
        if not (answer.note or "").strip():
            raise ClaimReviewInvalid("退回重审须写明意见")
        claim.status = ClaimStatus.UNDER_REVIEW.value
        claim.recommendation = claim.reduced_to_fen = claim.decision_reason = None
        _audit(session, claim, principal, "claim.sent_back", {"note": answer.note})
        return await public(session, claim)
    await _conclude(session, claim, principal)
    return await public(session, claim)


async def _policy_of(session: AsyncSession, claim: Claim) -> uuid.UUID:
    guarantee = await guarantees.for_loan(session=session, loan_id=claim.loan_id)
    assert guarantee is not None  # a claim is only taken on a guarantee
    return guarantee.policy_version_id


async def _conclude(session: AsyncSession, claim: Claim, principal: Principal) -> None:
    """Fix the payout of the recommended verdict, within the batch's ceiling, and tell the
    gateway. Under the batch's compensation lock: decisions of one batch one at a time."""
    verdict = Verdict(claim.recommendation)
    allowed = 0 if verdict is Verdict.DENY else claim.reduced_to_fen or claim.claimable_fen
    account = await repo.lock_batch_compensation(session=session, batch_id=claim.batch_id)
    request = ClaimRequest.model_validate(claim.request)
    volume = await claims.ceiling_base(session, request)
    ceiling = ceiling_of(volume, request.compensation_ceiling)
    payout = min(allowed, max(ceiling - account.paid_fen, 0))
    why = [*claim.reasons]
    if verdict is not Verdict.APPROVE:
        why.append(_verdict_reason(claim, verdict, allowed).model_dump())
    if payout < allowed:
        base_zh = "批次额度" if request.ceiling_base_amount is not None else "担保总额"
        reason = ceiling_reason(
            ceiling_fen=ceiling,
            rate=request.compensation_ceiling,
            paid_before_fen=account.paid_fen,
            payout_fen=payout,
            refused_fen=allowed - payout,
            volume_fen=volume,
            base_zh=base_zh,
        )
        why.append(reason.model_dump())
    now = utcnow()
    account.paid_fen += payout
    account.updated_at = now
    claim.allowed_fen, claim.payout_fen, claim.ceiling_fen = allowed, payout, ceiling
    claim.batch_paid_after_fen, claim.reasons = account.paid_fen, why
    claim.ceiling_cut = payout < allowed
    claim.outcome = _outcome(verdict, payout, allowed).value
    claim.status = STATUS_OF[verdict].value
    claim.decided_by, claim.decided_at = principal.actor, now
    _notify(session, claim, "decided")
    _audit(
        session,
        claim,
        principal,
        f"claim.{claim.status}",
        {"payout": str(from_fen(payout)), "allowed": str(from_fen(allowed))},
    )


def _outcome(verdict: Verdict, payout: int, allowed: int) -> ClaimOutcome:
    if verdict is Verdict.DENY:
        return ClaimOutcome.DENIED
    if payout == allowed:
        return ClaimOutcome.PAID
    return ClaimOutcome.PARTIALLY_PAID if payout > 0 else ClaimOutcome.REFUSED


def _verdict_reason(claim: Claim, verdict: Verdict, allowed: int) -> ClaimReason:
    why = claim.decision_reason or ""
    if verdict is Verdict.DENY:
        return ClaimReason(
            code="denied", message_zh=f"担保基金审核不予代偿：{why}", message_en=f"denied: {why}"
        )
    return ClaimReason(
        code="reduced",
        message_zh=(
            f"担保基金审核核减：代偿 {from_fen(allowed):,} 元"
            f"（按公式应代偿 {from_fen(claim.claimable_fen):,} 元）。理由：{why}"
        ),
        message_en=f"reduced to {from_fen(allowed)} of {from_fen(claim.claimable_fen)}: {why}",
    )


async def pay(
    *, session: AsyncSession, loan_id: uuid.UUID, payment: ClaimPaymentIn, principal: Principal
) -> ClaimPublic:
    """Record the fund's payment of what is due on a decided claim: in full, on a day from
    the decision to today, with its voucher."""
    claim = await _claim(session, loan_id)
    _in(claim, ClaimStatus.APPROVED, ClaimStatus.REDUCED, doing_zh="登记支付")
    due = claim.payout_fen - claim.paid_fen
    if due <= 0:
        raise ClaimNotReviewable("该代偿申请没有待支付的金额")
    if to_fen(payment.amount) != due:
        raise ClaimPaymentInvalid(
            f"支付金额 ¥{payment.amount:,} 与应付 ¥{from_fen(due):,} 不符（须一次付清应付金额）"
        )
    assert claim.decided_at is not None
    decided_on = shanghai_date(claim.decided_at)
    if not decided_on <= payment.paid_on <= shanghai_today():
        raise ClaimPaymentInvalid(f"支付日期须在决定日 {decided_on} 至今天 {shanghai_today()} 之间")
    repo.add(
        session,
        ClaimPayment(
            claim_id=claim.id,
            loan_id=claim.loan_id,
            amount_fen=due,
            paid_on=payment.paid_on,
            reference=payment.reference,
            paid_by=principal.actor,
        ),
    )
    claim.paid_fen += due
    claim.paid_on, claim.payment_reference = payment.paid_on, payment.reference
    claim.paid_by, claim.status = principal.actor, ClaimStatus.PAID.value
    _notify(session, claim, "paid")
    _audit(
        session,
        claim,
        principal,
        "claim.paid",
        {
            "amount": str(from_fen(due)),
            "paid_on": str(payment.paid_on),
            "reference": payment.reference,
        },
    )
    return await public(session, claim)


async def room(*, session: AsyncSession, loan_id: uuid.UUID) -> ClaimRoom:
    """The batch's ceiling and what is left of it now, for the reviewer's page."""
    claim = await repo.claim_for_loan(session=session, loan_id=loan_id)
    if claim is None:
        raise ClaimNotFound(f"贷款 {loan_id} 没有代偿申请")
    request = ClaimRequest.model_validate(claim.request)
    volume = await claims.ceiling_base(session, request)
    ceiling = ceiling_of(volume, request.compensation_ceiling)
    committed = await repo.batch_compensation(session=session, batch_id=claim.batch_id)
    terms, _, _ = await claims.claim_terms(session, await _policy_of(session, claim))
    return ClaimRoom(
        loan_id=claim.loan_id,
        batch_id=claim.batch_id,
        claimable=from_fen(claim.claimable_fen),
        ceiling_base=from_fen(volume),
        ceiling_rate=str(request.compensation_ceiling),
        ceiling_amount=from_fen(ceiling),
        batch_compensation=from_fen(committed),
        room=from_fen(max(ceiling - committed, 0)),
        second_review_above=terms.second_review_above,
        needs_second_review=claim.claimable_fen > to_fen(terms.second_review_above),
        min_days_overdue=terms.min_days_overdue,
        filing_deadline_days=terms.filing_deadline_days,
        required_documents=[d.name_zh for d in terms.required_documents],
        documents_missing=await documents.missing(session, claim.loan_id, terms),
    )


def _notify(session: AsyncSession, claim: Claim, kind: str) -> None:
    notice_id = uuid.uuid4()
    notice = ClaimNotice(notice_id=notice_id, kind=kind, decision=claims.decision_of(claim))  # type: ignore[arg-type]
    repo.add_notice(
        session,
        ClaimNoticeRow(
            id=notice_id, loan_id=claim.loan_id, kind=kind, body=notice.model_dump(mode="json")
        ),
    )


def _audit(
    session: AsyncSession,
    claim: Claim,
    principal: Principal,
    action: str,
    detail: dict[str, object],
) -> None:
    audit.append(
        session,
        AuditEntry,
        actor=principal.actor,
        action=action,
        entity_type="claim",
        entity_id=str(claim.id),
        detail={"loan_id": str(claim.loan_id), **detail},
        entity=claim,
    )
