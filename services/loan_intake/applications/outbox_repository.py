"""Every query of the hand-off outbox: due messages claimed with a lease, then completed,
rescheduled or failed; the backlog the metrics show."""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.loan_intake.models import OutboxMessage
from shared.jobs import lease_due


async def claim_due_outbox(
    *, session: AsyncSession, topic: str, now: datetime, lease_until: datetime, limit: int
) -> Sequence[OutboxMessage]:
    """Take up to ``limit`` due messages and lease them, skipping rows another worker holds."""
    return await lease_due(
        session,
        OutboxMessage,
        undone=[
            OutboxMessage.topic == topic,
            col(OutboxMessage.completed_at).is_(None),
            col(OutboxMessage.failed_at).is_(None),
        ],
        order=[col(OutboxMessage.next_attempt_at), col(OutboxMessage.id)],
        now=now,
        lease_until=lease_until,
        limit=limit,
        worked_in=[col(OutboxMessage.id)],  # in the order they were written
    )


async def complete_outbox(*, session: AsyncSession, ids: Sequence[int], now: datetime) -> None:
    await session.execute(
        sa.update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(ids))
        .values(completed_at=now, locked_until=None, last_error=None)
    )


async def reschedule_outbox(
    *, session: AsyncSession, message_id: int, next_attempt_at: datetime, error: str
) -> None:
    await session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(next_attempt_at=next_attempt_at, locked_until=None, last_error=error[:2000])
    )


async def fail_outbox(*, session: AsyncSession, message_id: int, now: datetime, error: str) -> None:
    await session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(failed_at=now, locked_until=None, last_error=error[:2000])
    )


async def outbox_backlog(*, session: AsyncSession) -> int:
    total = await session.scalar(
        select(sa.func.count())
        .select_from(OutboxMessage)
        .where(col(OutboxMessage.completed_at).is_(None), col(OutboxMessage.failed_at).is_(None))
    )
    return int(total or 0)
