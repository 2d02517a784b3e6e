from services.bank_gateway.models.base import GatewayModel
from shared.sessions import RevokedSessionColumns


class RevokedSession(RevokedSessionColumns, GatewayModel, table=True):
    """Sessions signed out before their tokens expire (shared/sessions.py): every copy of
    such a token — cookie or bearer — is refused."""

    __tablename__ = "revoked_sessions"
