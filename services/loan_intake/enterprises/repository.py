"""Every query of firms: the register searched, each firm's application counts and latest,
its portal accounts (who to call)."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.loan_intake.models import Application, Enterprise, EnterpriseAccount


async def search(
    *, session: AsyncSession, text: str | None, offset: int, limit: int
) -> tuple[Sequence[Enterprise], int]:
    """Firms whose USCC starts with ``text`` or whose name holds it, latest updated first."""
    conditions: list[Any] = []
    if text:
        conditions.append(
            sa.or_(
                col(Enterprise.uscc).startswith(text.upper(), autoescape=True),
                col(Enterprise.name).contains(text, autoescape=True),
            )
        )
    total = await session.scalar(select(sa.func.count()).select_from(Enterprise).where(*conditions))
    result = await session.execute(
        select(Enterprise)
        .where(*conditions)
        .order_by(col(Enterprise.updated_at).desc(), col(Enterprise.id))
        .offset(offset)
        .limit(limit)
    )
    return result.scalars().all(), int(total or 0)


async def application_counts(
    *, session: AsyncSession, enterprise_ids: Sequence[int]
) -> dict[int, tuple[int, datetime]]:
    """Per firm: how many applications, and when the latest was filed."""
    if not enterprise_ids:
        return {}
    result = await session.execute(
        select(
            Application.enterprise_id,
            sa.func.count(),
            sa.func.max(Application.created_at),
        )
        .where(col(Application.enterprise_id).in_(enterprise_ids))
        .group_by(Application.enterprise_id)
    )
    return {row[0]: (int(row[1]), row[2]) for row in result}


async def latest_statuses(
    *, session: AsyncSession, enterprise_ids: Sequence[int]
) -> dict[int, str]:
    """Each firm's latest application's status."""
    if not enterprise_ids:
        return {}
    latest = (
        select(Application.enterprise_id, sa.func.max(Application.created_at).label("at"))
        .where(col(Application.enterprise_id).in_(enterprise_ids))
        .group_by(Application.enterprise_id)
        .subquery()
    )
    result = await session.execute(
        select(Application.enterprise_id, Application.status).join(
            latest,
            sa.and_(
                Application.enterprise_id == latest.c.enterprise_id,
                Application.created_at == latest.c.at,
            ),
        )
    )
    return {row[0]: row[1] for row in result}


async def by_uscc(*, session: AsyncSession, uscc: str) -> Enterprise | None:
    result = await session.execute(select(Enterprise).where(Enterprise.uscc == uscc))
    return result.scalar_one_or_none()


async def latest_application(*, session: AsyncSession, uscc: str) -> Application | None:
    result = await session.execute(
        select(Application)
        .where(Application.enterprise_uscc == uscc)
        .order_by(col(Application.created_at).desc(), col(Application.id))
        .limit(1)
    )
    return result.scalar_one_or_none()


async def accounts(*, session: AsyncSession, uscc: str) -> Sequence[EnterpriseAccount]:
    result = await session.execute(
        select(EnterpriseAccount)
        .where(EnterpriseAccount.uscc == uscc)
        .order_by(col(EnterpriseAccount.created_at))
    )
    return result.scalars().all()
