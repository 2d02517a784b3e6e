"""Every query of the outbox (``deliveries``): written with the change it tells of, leased
and finished by the worker, listed and redelivered by the bureau."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.bank_gateway.models import Delivery, DeliveryStatus
from shared.jobs import queue_work

# The worker that sends what is written here (shared/jobs.py wakes it on commit).
QUEUE = "bank_gateway.deliveries"

_deliveries: sa.Table = Delivery.__table__  # type: ignore[attr-defined]


async def insert_deliveries(*, session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(sa.insert(_deliveries), rows)
        queue_work(session, QUEUE)


async def claim_deliveries(
    *,
    session: AsyncSession,
    now: datetime,
    lease_until: datetime,
    limit: int,
    kinds: Sequence[str],
) -> list[Delivery]:
    """Lease due deliveries; SKIP LOCKED so several workers never take the same one."""
    earlier = _deliveries.alias("earlier")
    # A loan's changes reach loan_intake (and its filing, claim and recoveries the guarantee
    # service) in the order they happened: a row waits while an older one of the same kind
    # for the same application is still pending.
    ahead = (
        sa.select(earlier.c.id)
        .where(
            earlier.c.application_id == _deliveries.c.application_id,
            earlier.c.kind == _deliveries.c.kind,
            earlier.c.status == DeliveryStatus.PENDING,
            sa.or_(
                earlier.c.created_at < _deliveries.c.created_at,
                sa.and_(
                    earlier.c.created_at == _deliveries.c.created_at,
                    earlier.c.id < _deliveries.c.id,
                ),
            ),
        )
        .exists()
    )
    due = (
        sa.select(_deliveries.c.id)
        .where(
            _deliveries.c.status == DeliveryStatus.PENDING,
            _deliveries.c.kind.in_(kinds),
            _deliveries.c.next_attempt_at <= now,
            sa.or_(_deliveries.c.lease_until.is_(None), _deliveries.c.lease_until < now),
            sa.or_(_deliveries.c.application_id.is_(None), ~ahead),
        )
        .order_by(_deliveries.c.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list((await session.execute(due)).scalars().all())
    if not ids:
        return []
    await session.execute(
        sa.update(_deliveries)
        .where(_deliveries.c.id.in_(ids))
        .values(lease_until=lease_until, attempts=_deliveries.c.attempts + 1)
    )
    result = await session.execute(
        select(Delivery)
        .where(col(Delivery.id).in_(ids))
        .order_by(col(Delivery.created_at), col(Delivery.id))
        .execution_options(populate_existing=True)
    )
    return list(result.scalars().all())


async def finish_delivery(*, session: AsyncSession, delivery_id: uuid.UUID, **values: Any) -> None:
    await session.execute(
        sa.update(_deliveries).where(_deliveries.c.id == delivery_id).values(**values)
    )


async def finish_deliveries(
    *, session: AsyncSession, outcomes: dict[uuid.UUID, dict[str, Any]]
) -> None:
    """Each row's outcome; rows with the same outcome in one statement."""
    groups: dict[str, tuple[dict[str, Any], list[uuid.UUID]]] = {}
    for delivery_id, values in outcomes.items():
        key = repr(sorted(values.items()))
        groups.setdefault(key, (values, []))[1].append(delivery_id)
    for values, ids in groups.values():
        await session.execute(
            sa.update(_deliveries).where(_deliveries.c.id.in_(ids)).values(**values)
        )


async def get_delivery(
    *, session: AsyncSession, delivery_id: uuid.UUID, for_update: bool = False
) -> Delivery | None:
    return await session.get(Delivery, delivery_id, with_for_update=for_update or None)


async def list_deliveries(
    *,
    session: AsyncSession,
    status: str | None,
    bank_id: uuid.UUID | None,
    offset: int,
    limit: int,
    tried: bool = False,
) -> tuple[Sequence[Delivery], int]:
    """``tried``: only those attempted at least once."""
    where = [Delivery.attempts > 0] if tried else []
    if status is not None:
        where.append(Delivery.status == status)
    if bank_id is not None:
        where.append(Delivery.bank_id == bank_id)
    total = await session.scalar(sa.select(sa.func.count()).select_from(Delivery).where(*where))
    result = await session.execute(
        select(Delivery)
        .where(*where)
        .order_by(col(Delivery.created_at).desc())
        .offset(offset)
        .limit(limit)
    )
    return result.scalars().all(), total or 0


async def applications_in_flight(*, session: AsyncSession) -> set[uuid.UUID]:
    """Applications with a delivery not yet done (pending or retrying): their figures in
    the other services may still be catching up."""
    result = await session.execute(
        sa.select(Delivery.application_id)
        .where(Delivery.status == DeliveryStatus.PENDING, col(Delivery.application_id).is_not(None))
        .distinct()
    )
    return {i for i in result.scalars().all() if i is not None}


async def pending_count(*, session: AsyncSession) -> int:
    total = await session.scalar(
        sa.select(sa.func.count())
        .select_from(_deliveries)
        .where(_deliveries.c.status == DeliveryStatus.PENDING)
    )
    return total or 0


def requeue(session: AsyncSession, delivery: Delivery, *, now: datetime) -> None:
    """A dead or failed delivery goes out again now, with a fresh retry window."""
    delivery.status = DeliveryStatus.PENDING
    delivery.next_attempt_at = now
    delivery.window_from = now  # the 24 h window starts again
    delivery.ended_at = None
    delivery.lease_until = None
    queue_work(session, QUEUE)
