"""The queries of the status texter: its cursor (locked), the news after it, the phones."""

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.loan_intake.models import (
    Application,
    ApplicationEvent,
    EnterpriseAccount,
    NoticeCursor,
)


async def cursor(*, session: AsyncSession, name: str) -> NoticeCursor:
    """The cursor, locked to the transaction: two replicas never text the same news."""
    found = await session.execute(
        select(NoticeCursor).where(NoticeCursor.name == name).with_for_update()
    )
    row = found.scalar_one_or_none()
    if row is None:
        row = NoticeCursor(name=name, last_event_id=0)
        session.add(row)
    return row


async def news_after(
    *, session: AsyncSession, last_id: int, limit: int
) -> Sequence[tuple[ApplicationEvent, Application]]:
    """Steps someone else took (not the firm, not the hand-off to the assessment)."""
    result = await session.execute(
        select(ApplicationEvent, Application)
        .join(Application, col(Application.id) == ApplicationEvent.application_id)
        .where(
            col(ApplicationEvent.id) > last_id,
            ApplicationEvent.to_status != "assessing",
            ~col(ApplicationEvent.actor).startswith("sme:"),
        )
        .order_by(col(ApplicationEvent.id))
        .limit(limit)
    )
    return [(row[0], row[1]) for row in result.all()]


async def verified_phones(*, session: AsyncSession, usccs: set[str]) -> dict[str, list[str]]:
    if not usccs:
        return {}
    result = await session.execute(
        select(EnterpriseAccount.uscc, EnterpriseAccount.contact_phone).where(
            col(EnterpriseAccount.uscc).in_(usccs), col(EnterpriseAccount.verified_at).isnot(None)
        )
    )
    phones: dict[str, list[str]] = {}
    for uscc, phone in result.all():
        if phone not in phones.setdefault(uscc, []):
            phones[uscc].append(phone)
    return phones
