"""The bank gateway's rules. Never commits, never HTTP."""

from sqlalchemy.ext.asyncio import AsyncSession

from services.bank_gateway import repository as repo
from services.bank_gateway.models import PartnerBank, PartnerBankPublic
from shared.auth import Principal, Role


async def list_banks(*, session: AsyncSession, principal: Principal) -> list[PartnerBankPublic]:
    banks = await repo.list_banks(session=session)
    if principal.role is Role.BANK:
        # A bank sees itself only.
        banks = [b for b in banks if b.code == principal.tenant]
    return [PartnerBankPublic.model_validate(b, from_attributes=True) for b in banks]


async def ensure_bank(*, session: AsyncSession, code: str, name: str) -> PartnerBank:
    bank = await repo.get_bank_by_code(session=session, code=code)
    if bank is None:
        bank = PartnerBank(code=code, name=name)
        session.add(bank)
        await session.flush()
    return bank
