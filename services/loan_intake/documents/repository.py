"""Every query of application documents."""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.loan_intake.models import ApplicationDocument


async def documents_of(
    *, session: AsyncSession, application_id: uuid.UUID
) -> Sequence[ApplicationDocument]:
    # Without the bytes: a list never loads every file.
    result = await session.execute(
        select(ApplicationDocument)
        .options(sa.orm.defer(ApplicationDocument.content))  # type: ignore[arg-type]
        .where(ApplicationDocument.application_id == application_id)
        .order_by(col(ApplicationDocument.uploaded_at))
    )
    return result.scalars().all()


async def by_digest(
    *, session: AsyncSession, application_id: uuid.UUID, kind: str, sha256: str
) -> ApplicationDocument | None:
    result = await session.execute(
        select(ApplicationDocument)
        .options(sa.orm.defer(ApplicationDocument.content))  # type: ignore[arg-type]
        .where(
            ApplicationDocument.application_id == application_id,
            ApplicationDocument.kind == kind,
            ApplicationDocument.sha256 == sha256,
        )
    )
    return result.scalar_one_or_none()


async def get(*, session: AsyncSession, document_id: uuid.UUID) -> ApplicationDocument | None:
    return await session.get(ApplicationDocument, document_id)


def add(session: AsyncSession, document: ApplicationDocument) -> None:
    session.add(document)
