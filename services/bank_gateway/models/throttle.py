from services.bank_gateway.models.base import GatewayModel
from shared.attempts import ThrottleColumns


class ThrottleEntry(ThrottleColumns, GatewayModel, table=True):
    """Failed sign-ins (and registrations) counted per key, shared by every replica
    (the columns and rules are shared/attempts.py's)."""

    __tablename__ = "throttle"
