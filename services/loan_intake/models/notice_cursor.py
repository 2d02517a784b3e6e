from sqlmodel import Field

from services.loan_intake.models.base import IntakeModel


class NoticeCursor(IntakeModel, table=True):
    """How far a sender of texts has read the applications' history (the last event's id)."""

    __tablename__ = "notice_cursors"

    name: str = Field(primary_key=True, max_length=40)
    last_event_id: int = 0
