"""Every query about enterprise accounts (the SME portal's sign-in)."""

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.loan_intake.models import EnterpriseAccount


async def accounts_of(*, session: AsyncSession, uscc: str, limit: int) -> list[EnterpriseAccount]:
    """A firm's accounts, the verified first, then the newest."""
    result = await session.execute(
        select(EnterpriseAccount)
        .where(EnterpriseAccount.uscc == uscc)
        .order_by(col(EnterpriseAccount.verified_at).is_(None), col(EnterpriseAccount.id).desc())
        .limit(limit)
    )
    return list(result.scalars().all())


async def count_of(*, session: AsyncSession, uscc: str) -> int:
    counted = select(sa.func.count()).where(EnterpriseAccount.uscc == uscc)
    return int(await session.scalar(counted) or 0)


async def get_by_id(*, session: AsyncSession, account_id: int) -> EnterpriseAccount | None:
    return await session.get(EnterpriseAccount, account_id)


def add(session: AsyncSession, account: EnterpriseAccount) -> None:
    session.add(account)
