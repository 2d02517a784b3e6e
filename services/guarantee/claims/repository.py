"""Every query of claims, recoveries and each batch's compensation account."""

import uuid
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer
from sqlmodel import col, select

from services.guarantee.models import (
    BatchCompensation,
    Claim,
    ClaimDocument,
    ClaimNoticeRow,
    ClaimPayment,
    Recovery,
)
from shared.clock import utcnow
from shared.db import dialect_insert
from shared.jobs import lease_due, queue_work

# The claim-notice worker's queue (shared/jobs.py wakes it when a notice is committed).
CLAIM_NOTICE_QUEUE = "guarantee.claim_notices"

_compensation: sa.Table = BatchCompensation.__table__  # type: ignore[attr-defined]


async def lock_batch_compensation(
    *, session: AsyncSession, batch_id: uuid.UUID
) -> BatchCompensation:
    """The batch's compensation account, created if new, locked until the transaction ends:
    claims of one batch are decided one after another."""
    await session.execute(
        dialect_insert(session, _compensation)
        .values(batch_id=batch_id, paid_fen=0, fund_recovered_fen=0, updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["batch_id"])
    )
    account = await session.get(
        BatchCompensation, batch_id, with_for_update=True, populate_existing=True
    )
    assert account is not None
    return account


async def batch_compensation(*, session: AsyncSession, batch_id: uuid.UUID) -> int:
    """Compensation committed in the batch so far (fen), read without a lock."""
    paid = await session.scalar(
        sa.select(_compensation.c.paid_fen).where(_compensation.c.batch_id == batch_id)
    )
    return int(paid or 0)


async def claim_for_loan(
    *, session: AsyncSession, loan_id: uuid.UUID, for_update: bool = False
) -> Claim | None:
    query = select(Claim).where(Claim.loan_id == loan_id)
    if for_update:
        query = query.with_for_update()
    result = await session.execute(query.execution_options(populate_existing=True))
    return result.scalar_one_or_none()


async def cut_claims(*, session: AsyncSession, batch_id: uuid.UUID) -> Sequence[Claim]:
    """The batch's claims the ceiling ever cut (open or since topped up), oldest first,
    locked: decided one after another like new claims."""
    result = await session.execute(
        select(Claim)
        .where(Claim.batch_id == batch_id, col(Claim.ceiling_cut).is_(True))
        .order_by(col(Claim.decided_at), col(Claim.id))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return result.scalars().all()


async def list_claims(
    *,
    session: AsyncSession,
    batch_id: uuid.UUID | None,
    outcome: str | None,
    statuses: Sequence[str] = (),
    offset: int,
    limit: int,
) -> tuple[Sequence[Claim], int]:
    """Claims newest filed first; an inbox (open statuses) oldest first, as they wait."""
    where = []
    if batch_id is not None:
        where.append(Claim.batch_id == batch_id)
    if outcome is not None:
        where.append(Claim.outcome == outcome)
    if statuses:
        where.append(col(Claim.status).in_(statuses))
    total = await session.scalar(sa.select(sa.func.count()).select_from(Claim).where(*where))
    waiting = statuses and set(statuses) <= {"submitted", "under_review", "awaiting_second"}
    order = col(Claim.submitted_at) if waiting else col(Claim.submitted_at).desc()
    result = await session.execute(
        select(Claim).where(*where).order_by(order, col(Claim.id)).offset(offset).limit(limit)
    )
    return result.scalars().all(), total or 0


async def recoveries_of(
    *, session: AsyncSession, claim_ids: Sequence[uuid.UUID]
) -> Sequence[Recovery]:
    if not claim_ids:
        return []
    result = await session.execute(
        select(Recovery)
        .where(col(Recovery.claim_id).in_(claim_ids))
        .order_by(col(Recovery.recorded_at), col(Recovery.id))
    )
    return result.scalars().all()


async def get_recovery(*, session: AsyncSession, recovery_id: uuid.UUID) -> Recovery | None:
    return await session.get(Recovery, recovery_id)


def add(session: AsyncSession, row: Claim | Recovery | ClaimPayment | ClaimDocument) -> None:
    session.add(row)


async def document_by_digest(
    *, session: AsyncSession, loan_id: uuid.UUID, kind: str, sha256: str
) -> ClaimDocument | None:
    result = await session.execute(
        select(ClaimDocument).where(
            ClaimDocument.loan_id == loan_id,
            ClaimDocument.kind == kind,
            ClaimDocument.sha256 == sha256,
        )
    )
    return result.scalar_one_or_none()


async def documents_of(*, session: AsyncSession, loan_id: uuid.UUID) -> Sequence[ClaimDocument]:
    """The loan's claim papers, oldest first, without their bytes."""
    result = await session.execute(
        select(ClaimDocument)
        .where(ClaimDocument.loan_id == loan_id)
        .options(defer(ClaimDocument.content))  # type: ignore[arg-type]
        .order_by(col(ClaimDocument.uploaded_at), col(ClaimDocument.id))
    )
    return result.scalars().all()


async def get_document(*, session: AsyncSession, document_id: uuid.UUID) -> ClaimDocument | None:
    return await session.get(ClaimDocument, document_id)


def add_notice(session: AsyncSession, notice: ClaimNoticeRow) -> None:
    """A claim decided or paid, for the gateway: its worker is woken when this commits."""
    session.add(notice)
    queue_work(session, CLAIM_NOTICE_QUEUE)


async def payments_of(*, session: AsyncSession, claim_id: uuid.UUID) -> Sequence[ClaimPayment]:
    result = await session.execute(
        select(ClaimPayment)
        .where(ClaimPayment.claim_id == claim_id)
        .order_by(col(ClaimPayment.recorded_at), col(ClaimPayment.id))
    )
    return result.scalars().all()


async def claim_due_notices(
    *, session: AsyncSession, now: datetime, lease_until: datetime, limit: int
) -> Sequence[ClaimNoticeRow]:
    """Up to ``limit`` due notices, oldest first, leased (shared/jobs.py)."""
    return await lease_due(
        session,
        ClaimNoticeRow,
        undone=[col(ClaimNoticeRow.delivered_at).is_(None)],
        order=[col(ClaimNoticeRow.created_at), col(ClaimNoticeRow.id)],
        now=now,
        lease_until=lease_until,
        limit=limit,
    )


async def finish_notice(
    *,
    session: AsyncSession,
    notice_id: uuid.UUID,
    delivered_at: datetime | None,
    next_attempt_at: datetime | None = None,
    error: str | None = None,
) -> None:
    values: dict[str, object] = {"locked_until": None, "last_error": error}
    if delivered_at is not None:
        values["delivered_at"] = delivered_at
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    await session.execute(
        sa.update(ClaimNoticeRow).where(ClaimNoticeRow.id == notice_id).values(**values)
    )


async def claims_for_loans(
    *, session: AsyncSession, loan_ids: Sequence[uuid.UUID]
) -> Sequence[Claim]:
    result = await session.execute(select(Claim).where(col(Claim.loan_id).in_(loan_ids)))
    return result.scalars().all()


async def loans_with_notices_pending(
    *, session: AsyncSession, loan_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    result = await session.execute(
        sa.select(ClaimNoticeRow.loan_id).where(
            col(ClaimNoticeRow.loan_id).in_(loan_ids), col(ClaimNoticeRow.delivered_at).is_(None)
        )
    )
    return set(result.scalars().all())


async def notices_waiting(*, session: AsyncSession) -> int:
    """Notices the gateway has not acknowledged yet."""
    total = await session.scalar(
        sa.select(sa.func.count())
        .select_from(ClaimNoticeRow)
        .where(col(ClaimNoticeRow.delivered_at).is_(None))
    )
    return total or 0
