import uuid
from datetime import datetime

from pydantic import BaseModel, Field

# What a firm sends with its application; the reviewers ask by these names.
KINDS_ZH = {
    "business_licence": "营业执照",
    "financial_statements": "财务报表",
    "tax_certificate": "纳税证明",
    "other": "其他材料",
}
MAX_PER_APPLICATION = 20


class DocumentPublic(BaseModel):
    id: uuid.UUID
    application_id: uuid.UUID
    kind: str
    kind_zh: str
    filename: str
    content_type: str = Field(description="As recognised from the content")
    size: int
    sha256: str
    uploaded_at: datetime
