"""API shapes of a firm's request for review of a declared benefit."""

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.assessment import Text, Uscc

Benefit = Literal["specialized_new", "little_giant", "high_tech", "tech_sme"]
ReviewStatus = Literal["pending", "accepted", "rejected"]


class FactReviewCreate(BaseModel):
    """Sent by loan_intake for the firm, once its certificate is among its papers."""

    model_config = ConfigDict(extra="forbid")

    application_id: uuid.UUID
    uscc: Uscc
    enterprise_name: Text = Field(min_length=2, max_length=200)
    flag: Benefit = Field(description="The benefit the firm declared and asks to be verified")
    certificate_no: Text = Field(min_length=2, max_length=100)
    valid_to: date | None = Field(None, description="The certificate's last day, if it has one")
    note: Text = Field("", max_length=2000)
    document_id: uuid.UUID = Field(description="The certificate among intake's papers")
    document_name: Text = Field(min_length=1, max_length=255)
    requested_by: str = Field(min_length=1, max_length=200, description="The firm's actor")


class FactReviewPublic(BaseModel):
    id: uuid.UUID
    application_id: uuid.UUID
    enterprise_uscc: str
    enterprise_name: str
    flag: Benefit
    label_zh: str
    certificate_no: str
    valid_to: date | None
    note: str
    document_id: uuid.UUID
    document_name: str
    status: ReviewStatus
    status_zh: str
    requested_by: str
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    register_list_id: uuid.UUID | None
    next_zh: str = Field(description="What happens next, as the firm reads it")


class FactReviewPage(BaseModel):
    total: int
    items: list[FactReviewPublic]


class FactReviewDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(None, max_length=2000)
    valid_to: date | None = Field(
        None, description="Accepting: the certificate's last day as checked (else as given)"
    )
