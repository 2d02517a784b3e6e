import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from services.loan_intake.models.base import IntakeModel
from shared.clock import utcnow
from shared.db import UTCDateTime


class ApplicationDocument(IntakeModel, table=True):
    """A paper the firm (or a clerk for it) sent with an application: 营业执照, 财务报表,
    纳税证明 … Its bytes, recognised by content; the same file twice is kept once."""

    __tablename__ = "application_documents"
    __table_args__ = (sa.UniqueConstraint("application_id", "kind", "sha256"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    application_id: uuid.UUID = Field(foreign_key="applications.id", index=True)
    kind: str = Field(max_length=40)
    filename: str = Field(max_length=120)
    content_type: str = Field(max_length=40)
    size: int
    sha256: str = Field(max_length=64)
    content: bytes = Field(sa_type=sa.LargeBinary)
    uploaded_by: str = Field(max_length=200)
    uploaded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
