"""Every query about enterprise accounts (the SME portal's sign-in)."""

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from services.loan_intake.models import EnterpriseAccount


async def get_account(*, session: AsyncSession, uscc: str) -> EnterpriseAccount | None:
    result = await session.execute(select(EnterpriseAccount).where(EnterpriseAccount.uscc == uscc))
    return result.scalar_one_or_none()


def add(session: AsyncSession, account: EnterpriseAccount) -> None:
    session.add(account)
