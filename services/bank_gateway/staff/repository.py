"""Every query about bureau staff accounts."""

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.bank_gateway.models import StaffAccount


async def get_account(*, session: AsyncSession, username: str) -> StaffAccount | None:
    result = await session.execute(select(StaffAccount).where(StaffAccount.username == username))
    return result.scalar_one_or_none()


def add(session: AsyncSession, account: StaffAccount) -> None:
    session.add(account)


async def list_accounts(*, session: AsyncSession) -> list[StaffAccount]:
    result = await session.execute(select(StaffAccount).order_by(StaffAccount.username))
    return list(result.scalars())


async def display_names(*, session: AsyncSession, usernames: list[str]) -> dict[str, str]:
    if not usernames:
        return {}
    result = await session.execute(
        select(StaffAccount.username, StaffAccount.display_name).where(
            col(StaffAccount.username).in_(usernames)
        )
    )
    return {row.username: row.display_name for row in result}
