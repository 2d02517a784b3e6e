from services.guarantee.models.base import GuaranteeModel
from shared.audit import AuditLogColumns


class AuditEntry(AuditLogColumns, GuaranteeModel, table=True):
    """Who changed what, when: policy versions, what-if jobs, guarantees, claims (the
    columns and the chain are shared/audit.py's)."""

    __tablename__ = "audit_log"
