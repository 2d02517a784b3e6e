"""Every query of the audit log as the bureau reads it."""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.guarantee.models import AuditEntry


async def list_audit(
    *, session: AsyncSession, entity_id: str | None, offset: int, limit: int
) -> tuple[Sequence[AuditEntry], int]:
    where = [AuditEntry.entity_id == entity_id] if entity_id else []
    total = await session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(*where))
    result = await session.execute(
        select(AuditEntry)
        .where(*where)
        .order_by(col(AuditEntry.id).desc())
        .offset(offset)
        .limit(limit)
    )
    return result.scalars().all(), total or 0
