"""A firm's request that the bureau review a declared benefit no list in force shows — its
certificate attached (issue 18): pending until a bureau approver accepts it (the firm goes
into the bureau's own register of that kind, ``facts`` counts it from then) or rejects it
with why."""

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field

from services.guarantee.models.base import GuaranteeModel
from shared.clock import utcnow
from shared.db import UTCDateTime


class FactReview(GuaranteeModel, table=True):
    __tablename__ = "fact_reviews"
    __table_args__ = (
        sa.Index("ix_fact_reviews_status_created", "status", "created_at"),
        sa.Index("ix_fact_reviews_application", "application_id"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    application_id: uuid.UUID
    enterprise_uscc: str = Field(max_length=18, index=True)
    enterprise_name: str = Field(max_length=200)
    flag: str = Field(max_length=30)  # the benefit (EnterpriseFlags field)
    certificate_no: str = Field(max_length=100)
    valid_to: date | None = None  # the certificate's own last day, as the firm gives it
    note: str = Field(default="", max_length=2000)
    # The certificate itself is the firm's paper in loan_intake (its documents).
    document_id: uuid.UUID
    document_name: str = Field(max_length=255)
    status: str = Field(max_length=20)  # pending | accepted | rejected
    requested_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_by: str | None = Field(default=None, max_length=200)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision_note: str | None = Field(default=None, max_length=2000)
    # Accepted: the bureau's register list the firm was entered into.
    register_list_id: uuid.UUID | None = Field(default=None, foreign_key="reference_lists.id")
