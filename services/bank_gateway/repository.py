"""Every query the bank gateway makes."""

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.bank_gateway.models import PartnerBank


async def list_banks(*, session: AsyncSession) -> Sequence[PartnerBank]:
    result = await session.execute(select(PartnerBank).order_by(col(PartnerBank.code)))
    return result.scalars().all()


async def get_bank_by_code(*, session: AsyncSession, code: str) -> PartnerBank | None:
    result = await session.execute(select(PartnerBank).where(PartnerBank.code == code))
    return result.scalar_one_or_none()
