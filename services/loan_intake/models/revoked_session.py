from services.loan_intake.models.base import IntakeModel
from shared.sessions import RevokedSessionColumns


class RevokedSession(RevokedSessionColumns, IntakeModel, table=True):
    """Sessions signed out before their tokens expire (shared/sessions.py): every copy of
    such a token — cookie or bearer — is refused."""

    __tablename__ = "revoked_sessions"
