"""Every query about enterprise accounts (the SME portal's sign-in)."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.loan_intake.models import EnterpriseAccount, PasswordReset


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


async def open_resets(
    *, session: AsyncSession, account_ids: list[int], now: datetime, max_tries: int
) -> list[PasswordReset]:
    """Codes not used, not expired and not tried too often, newest first."""
    if not account_ids:
        return []
    result = await session.execute(
        select(PasswordReset)
        .where(
            col(PasswordReset.account_id).in_(account_ids),
            col(PasswordReset.used_at).is_(None),
            col(PasswordReset.expires_at) > now,
            col(PasswordReset.attempts) < max_tries,
        )
        .order_by(col(PasswordReset.id).desc())
        .limit(3)
    )
    return list(result.scalars().all())
