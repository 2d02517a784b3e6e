"""Finding applications: a clerk's search (number, USCC, name, status, bank, days) and a
firm's news for its message centre."""

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.loan_intake.applications.repository import scope
from services.loan_intake.applications.search import Search
from services.loan_intake.models import Application, ApplicationEvent, Enterprise


async def news_of(
    *,
    session: AsyncSession,
    tenant: str,
    account: int | None,
    not_by: str,
    since: datetime | None,
    limit: int,
) -> list[tuple[ApplicationEvent, Application]]:
    """What happened to the firm's applications (not by ``not_by``, the reader), newest
    first; with ``since``, only after it."""
    # The hand-off to the assessment is the firm's own submission, not news.
    conditions = [
        *scope(tenant, account),
        ApplicationEvent.actor != not_by,
        ApplicationEvent.to_status != "assessing",
    ]
    if since is not None:
        conditions.append(col(ApplicationEvent.at) > since)
    result = await session.execute(
        select(ApplicationEvent, Application)
        .join(Application, col(Application.id) == ApplicationEvent.application_id)
        .where(*conditions)
        .order_by(col(ApplicationEvent.at).desc(), col(ApplicationEvent.id).desc())
        .limit(limit)
    )
    return [(row[0], row[1]) for row in result.all()]


_NUMBER = re.compile(r"QP-\d{4}-(\d{1,12})")
_SORTS: dict[str, Any] = {
    "newest": (col(Application.created_at).desc(), col(Application.id)),
    "oldest": (col(Application.created_at), col(Application.id)),
    "amount_desc": (col(Application.amount_fen).desc(), col(Application.id)),
    "amount_asc": (col(Application.amount_fen), col(Application.id)),
}


def _matching(search: Search) -> list[Any]:
    conditions: list[Any] = []
    if search.status is not None:
        conditions.append(Application.status == search.status)
    if search.uscc is not None:
        conditions.append(Application.enterprise_uscc == search.uscc)
    if search.text:
        text = search.text.strip()
        number = _NUMBER.fullmatch(text.upper())
        if number:
            conditions.append(Application.number == int(number.group(1)))
        else:
            named = select(Enterprise.id).where(
                col(Enterprise.name).contains(text, autoescape=True)
            )
            conditions.append(
                sa.or_(
                    col(Application.enterprise_uscc).startswith(text.upper(), autoescape=True),
                    col(Application.enterprise_id).in_(named),
                )
            )
    if search.bank:
        conditions.append(col(Application.preferred_bank).contains(search.bank, autoescape=True))
    if search.since is not None:
        conditions.append(col(Application.created_at) >= search.since)
    if search.until is not None:
        conditions.append(col(Application.created_at) < search.until)
    return conditions


async def list_applications(
    *,
    session: AsyncSession,
    tenant: str | None,
    search: Search,
    offset: int,
    limit: int,
    account: int | None = None,
) -> tuple[Sequence[Application], int]:
    conditions = scope(tenant, account) + _matching(search)
    total = await session.scalar(
        select(sa.func.count()).select_from(Application).where(*conditions)
    )
    result = await session.execute(
        select(Application)
        .where(*conditions)
        .order_by(*_SORTS[search.sort])
        .offset(offset)
        .limit(limit)
    )
    return result.scalars().all(), int(total or 0)
