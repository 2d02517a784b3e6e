"""Every query the guarantee service makes."""

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.guarantee.models import Assessment, PolicyVersion


async def policy_in_force(*, session: AsyncSession, on: date) -> PolicyVersion | None:
    result = await session.execute(
        select(PolicyVersion)
        .where(
            PolicyVersion.status == "active",
            col(PolicyVersion.effective_from) <= on,
            sa.or_(col(PolicyVersion.effective_to).is_(None), col(PolicyVersion.effective_to) > on),
        )
        .order_by(col(PolicyVersion.effective_from).desc(), col(PolicyVersion.version).desc())
        .limit(1)
    )
    return result.scalar_one_or_none()


async def get_policy(*, session: AsyncSession, policy_id: uuid.UUID) -> PolicyVersion | None:
    return await session.get(PolicyVersion, policy_id)


async def get_policy_by_name(
    *, session: AsyncSession, name: str, version: int
) -> PolicyVersion | None:
    result = await session.execute(
        select(PolicyVersion).where(PolicyVersion.name == name, PolicyVersion.version == version)
    )
    return result.scalar_one_or_none()


async def list_policies(*, session: AsyncSession) -> Sequence[PolicyVersion]:
    result = await session.execute(
        select(PolicyVersion).order_by(col(PolicyVersion.name), col(PolicyVersion.version).desc())
    )
    return result.scalars().all()


async def assessments_for_applications(
    *, session: AsyncSession, application_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Assessment]:
    if not application_ids:
        return {}
    result = await session.execute(
        select(Assessment).where(col(Assessment.application_id).in_(application_ids))
    )
    return {a.application_id: a for a in result.scalars().all()}


async def get_assessment(*, session: AsyncSession, assessment_id: uuid.UUID) -> Assessment | None:
    return await session.get(Assessment, assessment_id)


async def insert_assessments(*, session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(sa.insert(Assessment.__table__), rows)  # type: ignore[attr-defined]
