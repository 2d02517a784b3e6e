"""A firm's papers with its application, as loan_intake keeps them and the bank gateway
passes them to the batch's bank."""

import uuid
from datetime import datetime

from pydantic import BaseModel, Field


class ApplicationDocumentPublic(BaseModel):
    id: uuid.UUID
    application_id: uuid.UUID
    kind: str = Field(
        description="business_licence | financial_statements | tax_certificate | "
        "qualification_certificate | other"
    )
    kind_zh: str
    filename: str
    content_type: str = Field(description="As recognised from the content")
    size: int
    sha256: str
    uploaded_at: datetime
