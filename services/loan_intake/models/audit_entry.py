from services.loan_intake.models.base import IntakeModel
from shared.audit import AuditLogColumns


class AuditEntry(AuditLogColumns, IntakeModel, table=True):
    """Changes outside an application's own history: SME accounts registered and signed in
    to. Sealed into a chain like the history (the columns are shared/audit.py's)."""

    __tablename__ = "audit_log"
