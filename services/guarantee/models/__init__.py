"""The guarantee service's tables, one file per entity (API shapes live in each domain's
schemas.py). Importing this package registers every table in the service's metadata."""

from services.guarantee.models.assessment import Assessment, LapsedApplication
from services.guarantee.models.audit_entry import AuditEntry
from services.guarantee.models.base import GuaranteeModel
from services.guarantee.models.claim import (
    BatchCompensation,
    Claim,
    ClaimDocument,
    ClaimNoticeRow,
    ClaimPayment,
    Recovery,
)
from services.guarantee.models.fact_review import FactReview
from services.guarantee.models.fee_sums import FeeDue, FeeMark, FeeSum
from services.guarantee.models.guarantee import (
    ExposureDelta,
    ExposureSummary,
    ExposureTotal,
    Guarantee,
)
from services.guarantee.models.policy_version import POLICY_STATUS_ZH, PolicyStatus, PolicyVersion
from services.guarantee.models.reference_list import GuaranteeBenefit, ReferenceEntry, ReferenceList
from services.guarantee.models.whatif import WhatIfChange, WhatIfJob, WhatIfStatus

__all__ = [
    "POLICY_STATUS_ZH",
    "Assessment",
    "AuditEntry",
    "BatchCompensation",
    "Claim",
    "ClaimDocument",
    "ClaimNoticeRow",
    "ClaimPayment",
    "ExposureDelta",
    "ExposureSummary",
    "ExposureTotal",
    "FactReview",
    "FeeDue",
    "FeeMark",
    "FeeSum",
    "Guarantee",
    "GuaranteeBenefit",
    "GuaranteeModel",
    "LapsedApplication",
    "PolicyStatus",
    "PolicyVersion",
    "Recovery",
    "ReferenceEntry",
    "ReferenceList",
    "WhatIfChange",
    "WhatIfJob",
    "WhatIfStatus",
]
