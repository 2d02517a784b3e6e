from services.bank_gateway.models.base import GatewayModel
from shared.audit import AuditLogColumns


class AuditEntry(AuditLogColumns, GatewayModel, table=True):
    """Who changed what, when: every change of a bank, batch, loan or delivery (the columns
    and the chain are shared/audit.py's)."""

    __tablename__ = "audit_log"
