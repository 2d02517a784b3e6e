"""The audit log as the bureau reads it: who changed what and when."""

from sqlalchemy.ext.asyncio import AsyncSession

from services.guarantee.audit import repository as repo
from services.guarantee.audit.schemas import AuditEntryPublic, AuditPage


async def audit_log(
    *, session: AsyncSession, entity_id: str | None, offset: int, limit: int
) -> AuditPage:
    entries, total = await repo.list_audit(
        session=session, entity_id=entity_id, offset=offset, limit=limit
    )
    return AuditPage(
        items=[AuditEntryPublic.model_validate(e, from_attributes=True) for e in entries],
        total=total,
        offset=offset,
        limit=limit,
    )
