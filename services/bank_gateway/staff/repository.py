"""Every query about bureau staff accounts."""

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from services.bank_gateway.models import StaffAccount


async def get_account(*, session: AsyncSession, username: str) -> StaffAccount | None:
    result = await session.execute(select(StaffAccount).where(StaffAccount.username == username))
    return result.scalar_one_or_none()


def add(session: AsyncSession, account: StaffAccount) -> None:
    session.add(account)


async def list_accounts(*, session: AsyncSession) -> list[StaffAccount]:
    result = await session.execute(select(StaffAccount).order_by(StaffAccount.username))
    return list(result.scalars())
