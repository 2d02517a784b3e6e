"""Every query about partner banks and their secrets."""

import uuid
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.bank_gateway.models import PartnerBank, SigningSecret


async def list_banks(*, session: AsyncSession) -> Sequence[PartnerBank]:
    result = await session.execute(select(PartnerBank).order_by(col(PartnerBank.code)))
    return result.scalars().all()


async def get_bank(*, session: AsyncSession, bank_id: uuid.UUID) -> PartnerBank | None:
    return await session.get(PartnerBank, bank_id)


async def get_bank_by_code(
    *, session: AsyncSession, code: str, for_update: bool = False
) -> PartnerBank | None:
    query = select(PartnerBank).where(PartnerBank.code == code)
    if for_update:
        query = query.with_for_update()
    result = await session.execute(query)
    return result.scalar_one_or_none()


async def get_bank_by_client_id(*, session: AsyncSession, client_id: str) -> PartnerBank | None:
    result = await session.execute(select(PartnerBank).where(PartnerBank.client_id == client_id))
    return result.scalar_one_or_none()


def add(session: AsyncSession, row: PartnerBank | SigningSecret) -> None:
    session.add(row)


async def valid_signing_secrets(
    *, session: AsyncSession, bank_ids: Sequence[uuid.UUID], now: datetime
) -> list[SigningSecret]:
    """Secrets still valid, newest first."""
    if not bank_ids:
        return []
    result = await session.execute(
        select(SigningSecret)
        .where(
            col(SigningSecret.bank_id).in_(bank_ids),
            sa.or_(col(SigningSecret.retires_at).is_(None), col(SigningSecret.retires_at) > now),
        )
        .order_by(col(SigningSecret.created_at).desc())
    )
    return list(result.scalars().all())


async def reseal_signing_secrets(*, session: AsyncSession) -> int:
    """Write every signing secret again: read with any sealing key, written with the first
    (shared/sealed.py). The number of rows."""
    rows = (await session.execute(select(SigningSecret.id, SigningSecret.secret))).all()
    for secret_id, secret in rows:
        await session.execute(
            sa.update(SigningSecret).where(col(SigningSecret.id) == secret_id).values(secret=secret)
        )
    return len(rows)
