"""bank_gateway ⇐ guarantee: what a batch takes from the policy version it is drafted under.

A subset of the guarantee service's ``GET /v1/policies/{id}``; the rest is ignored.
"""

import uuid
from decimal import Decimal

from pydantic import BaseModel


class BatchRiskParameters(BaseModel):
    warning_loss_rate: Decimal
    suspension_loss_rate: Decimal
    compensation_ceiling: Decimal


class PolicyDocumentForBatches(BaseModel):
    batch_risk: BatchRiskParameters


class PolicyVersionSummary(BaseModel):
    id: uuid.UUID
    name: str
    version: int
    status: str
    document: PolicyDocumentForBatches
