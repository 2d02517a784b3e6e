"""The gateway's answer about one of its sessions. Never commits."""

from sqlalchemy.ext.asyncio import AsyncSession

from services.bank_gateway.banks import service as banks
from services.bank_gateway.models import RevokedSession
from services.bank_gateway.staff import service as staff
from shared.auth import Role
from shared.contracts.sessions import SessionQuery, SessionState
from shared.sessions import is_revoked

_REVOKED = RevokedSession.__table__  # type: ignore[attr-defined]


async def state(session: AsyncSession, query: SessionQuery) -> SessionState:
    """Signed out → inactive; a clerk as their account stands now (deactivated → inactive,
    the approver right as it is now); a bank's token dies with the bank's deactivation."""
    if await is_revoked(session, _REVOKED, query.session):
        return SessionState(active=False)
    if query.role in (Role.BUREAU, Role.FUND):
        return await staff.session_state(
            session=session, username=query.subject, role=query.role
        ) or SessionState(active=True)
    if query.role == Role.BANK:
        bank = await banks.by_code(session=session, code=query.tenant or "")
        return SessionState(active=bank is None or bank.active)
    return SessionState(active=True)
