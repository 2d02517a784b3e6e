"""A firm's request that the bureau review a benefit it declared and no list in force shows
(issue 18): the certificate is among its papers in loan_intake; a bureau approver checks it
and accepts (the firm enters the bureau's register of that kind from today, so its next
assessments verify it) or rejects it, saying why. Audited; never commits."""

import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from services.guarantee.fact_reviews import repository as repo
from services.guarantee.fact_reviews.exceptions import (
    ReviewInvalid,
    ReviewNotFound,
    ReviewStateConflict,
)
from services.guarantee.fact_reviews.schemas import (
    FactReviewCreate,
    FactReviewPage,
    FactReviewPublic,
)
from services.guarantee.facts import register
from services.guarantee.facts.kinds import BY_FLAG
from services.guarantee.models import AuditEntry, FactReview
from shared import audit
from shared.auth import Principal, require_approve_permission
from shared.clock import utcnow
from shared.contracts.assessment import EnterpriseFlags
from shared.errors import FieldError

STATUS_ZH = {"pending": "待财政局处理", "accepted": "复核通过", "rejected": "复核未通过"}


def _next(review: FactReview) -> str:
    label = EnterpriseFlags.model_fields[review.flag].description
    if review.status == "pending":
        return "财政局将核对您提交的证书，处理结果会显示在这里"
    if review.status == "accepted":
        return (
            f"已列入《{label}名单（财政局复核认定）》：此后的申请按此核验；"
            "本申请已作出的评估不变，如需按新条件评估，请撤回后重新提交"
        )
    return f"财政局未认可：{review.decision_note or '—'}。如有新的证明材料，可再次申请复核"


def public(review: FactReview) -> FactReviewPublic:
    return FactReviewPublic(
        **review.model_dump(),
        label_zh=EnterpriseFlags.model_fields[review.flag].description or review.flag,
        status_zh=STATUS_ZH[review.status],
        next_zh=_next(review),
    )


def _audit(principal: Principal, session: AsyncSession, action: str, review: FactReview) -> None:
    audit.append(
        session,
        AuditEntry,
        actor=principal.actor,
        action=action,
        entity_type="fact_review",
        entity_id=str(review.id),
        detail={"uscc": review.enterprise_uscc, "flag": review.flag, "status": review.status},
        entity=review,
        created=action == "fact_review.requested",
    )


async def request(
    *, session: AsyncSession, principal: Principal, body: FactReviewCreate
) -> tuple[FactReviewPublic, bool]:
    """(the request, made now); one pending per application and benefit — asked again,
    the pending one answers."""
    before = await repo.pending_of(
        session=session, application_id=body.application_id, flag=body.flag
    )
    if before is not None:
        return public(before), False
    review = FactReview(
        application_id=body.application_id,
        enterprise_uscc=body.uscc,
        enterprise_name=body.enterprise_name,
        flag=body.flag,
        certificate_no=body.certificate_no.strip(),
        valid_to=body.valid_to,
        note=body.note.strip(),
        document_id=body.document_id,
        document_name=body.document_name,
        status="pending",
        requested_by=body.requested_by,
    )
    repo.add(session, review)
    await session.flush()
    _audit(principal, session, "fact_review.requested", review)
    return public(review), True


async def page(
    *,
    session: AsyncSession,
    status: str | None,
    application_id: uuid.UUID | None,
    offset: int,
    limit: int,
) -> FactReviewPage:
    found, total = await repo.page(
        session=session,
        status=status,
        application_id=application_id,
        offset=offset,
        limit=limit,
    )
    return FactReviewPage(total=total, items=[public(r) for r in found])


async def _load(session: AsyncSession, review_id: uuid.UUID, lock: bool = False) -> FactReview:
    review = await repo.get(session=session, review_id=review_id, lock=lock)
    if review is None:
        raise ReviewNotFound(f"复核申请 {review_id} 不存在")
    return review


async def get(*, session: AsyncSession, review_id: uuid.UUID) -> FactReviewPublic:
    return public(await _load(session, review_id))


async def decide(
    *,
    session: AsyncSession,
    principal: Principal,
    review_id: uuid.UUID,
    accept: bool,
    note: str | None,
    valid_to: date | None,
    today: date,
) -> FactReviewPublic:
    """Accepted: the firm in the bureau's register of that benefit from today, until the
    certificate's last day; rejected: with why (the firm reads it)."""
    require_approve_permission(principal, "处理企业复核申请")
    review = await _load(session, review_id, lock=True)
    if review.status != "pending":
        raise ReviewStateConflict(f"该复核申请已处理（{STATUS_ZH[review.status]}）")
    if not accept and not (note or "").strip():
        raise ReviewInvalid(
            "未通过复核须写明原因（企业将看到）",
            errors=[
                FieldError(
                    field="note",
                    message="请写明未通过的原因",
                    message_en="a rejection says why",
                    code="note_required",
                )
            ],
        )
    if accept:
        last_day = valid_to or review.valid_to
        if last_day is not None and last_day < today:
            raise ReviewInvalid(f"证书已于 {last_day} 到期，不能列入")
        kept = await register.enter(
            session=session,
            principal=principal,
            kind=BY_FLAG[review.flag],
            uscc=review.enterprise_uscc,
            name=review.enterprise_name,
            certificate_no=review.certificate_no,
            valid_to=last_day,
            today=today,
        )
        review.register_list_id, review.valid_to = kept.id, last_day
    review.status = "accepted" if accept else "rejected"
    review.decided_by, review.decided_at = principal.actor, utcnow()
    review.decision_note = (note or "").strip() or None
    _audit(principal, session, f"fact_review.{review.status}", review)
    return public(review)
