"""Every query of assessments."""

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.guarantee.models import Assessment

_assessments: sa.Table = Assessment.__table__  # type: ignore[attr-defined]


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
        await session.execute(sa.insert(_assessments), rows)
