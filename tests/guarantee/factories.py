"""One assessment request for the guarantee tests, changed field by field."""

import uuid
from datetime import UTC, date, datetime
from typing import Any

from shared.contracts.assessment import AssessmentRequest

AS_OF = date(2026, 11, 25)


def make_request(**changes: Any) -> AssessmentRequest:
    """A plain Qingpu manufacturer; ``enterprise__x=…`` / ``loan__x=…`` change one field."""
    enterprise: dict[str, Any] = {
        "uscc": "91310118MA1JL0000N",
        "name": "测试企业",
        "registered_district": "青浦区",
        "industry_code": "C39",
        "sme_sector": "industry",
        "sme_size": "small",
        "employees": 80,
        "annual_revenue": "12000000.00",
        "total_assets": "9000000.00",
        "established_on": "2018-03-01",
        "flags": {},
    }
    loan: dict[str, Any] = {"amount": "2000000.00", "term_months": 12, "purpose": "设备"}
    for key, value in changes.items():
        part, field = key.split("__", 1)
        (enterprise if part == "enterprise" else loan)[field] = value
    return AssessmentRequest(
        application_id=uuid.uuid4(),
        submitted_at=datetime(2026, 11, 25, 2, 0, tzinfo=UTC),
        as_of=AS_OF,
        enterprise=enterprise,
        loan=loan,
    )
