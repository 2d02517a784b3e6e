"""loan_intake's tables, one file per entity (API shapes live in each domain's schemas.py).
Money is stored as integer fen (``*_fen`` columns). Importing this package registers every
table in the service's metadata."""

from services.loan_intake.models.application import (
    STATUS_LABELS_ZH,
    Application,
    ApplicationStatus,
)
from services.loan_intake.models.application_document import ApplicationDocument
from services.loan_intake.models.application_event import ApplicationEvent
from services.loan_intake.models.audit_entry import AuditEntry
from services.loan_intake.models.base import IntakeModel
from services.loan_intake.models.enterprise import Enterprise
from services.loan_intake.models.enterprise_account import EnterpriseAccount
from services.loan_intake.models.idempotency_record import IdempotencyRecord
from services.loan_intake.models.notice_cursor import NoticeCursor
from services.loan_intake.models.outbox_message import OutboxMessage
from services.loan_intake.models.password_reset import PasswordReset
from services.loan_intake.models.revoked_session import RevokedSession
from services.loan_intake.models.throttle import ThrottleEntry

__all__ = [
    "STATUS_LABELS_ZH",
    "Application",
    "ApplicationDocument",
    "ApplicationEvent",
    "ApplicationStatus",
    "AuditEntry",
    "Enterprise",
    "EnterpriseAccount",
    "IdempotencyRecord",
    "IntakeModel",
    "NoticeCursor",
    "OutboxMessage",
    "PasswordReset",
    "RevokedSession",
    "ThrottleEntry",
]
