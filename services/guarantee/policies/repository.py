"""Every query of policy versions."""

import uuid
from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.guarantee.models import PolicyStatus, PolicyVersion


async def policy_in_force(*, session: AsyncSession, on: date) -> PolicyVersion | None:
    result = await session.execute(
        select(PolicyVersion)
        .where(
            PolicyVersion.status == PolicyStatus.APPROVED,
            col(PolicyVersion.effective_from) <= on,
        )
        .order_by(col(PolicyVersion.effective_from).desc(), col(PolicyVersion.decided_at).desc())
        .limit(1)
    )
    return result.scalar_one_or_none()


async def approved_policies(*, session: AsyncSession) -> Sequence[PolicyVersion]:
    """Approved versions in the order they take over from one another."""
    result = await session.execute(
        select(PolicyVersion)
        .where(PolicyVersion.status == PolicyStatus.APPROVED)
        .order_by(col(PolicyVersion.effective_from), col(PolicyVersion.decided_at))
    )
    return result.scalars().all()


async def get_policy(
    *, session: AsyncSession, policy_id: uuid.UUID, for_update: bool = False
) -> PolicyVersion | None:
    return await session.get(PolicyVersion, policy_id, with_for_update=for_update or None)


async def next_policy_version(*, session: AsyncSession) -> int:
    result = await session.execute(sa.select(sa.func.max(PolicyVersion.version)))
    return (result.scalar() or 0) + 1


async def list_policies(
    *, session: AsyncSession, status: str | None, offset: int, limit: int
) -> tuple[Sequence[PolicyVersion], int]:
    where = [PolicyVersion.status == status] if status else []
    total = await session.scalar(
        sa.select(sa.func.count()).select_from(PolicyVersion).where(*where)
    )
    result = await session.execute(
        select(PolicyVersion)
        .where(*where)
        .order_by(col(PolicyVersion.version).desc())
        .offset(offset)
        .limit(limit)
    )
    return result.scalars().all(), total or 0


def add(session: AsyncSession, version: PolicyVersion) -> None:
    session.add(version)
