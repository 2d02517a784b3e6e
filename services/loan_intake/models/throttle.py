from services.loan_intake.models.base import IntakeModel
from shared.attempts import ThrottleColumns


class ThrottleEntry(ThrottleColumns, IntakeModel, table=True):
    """Failed sign-ins (and registrations) counted per key, shared by every replica
    (the columns and rules are shared/attempts.py's)."""

    __tablename__ = "throttle"
