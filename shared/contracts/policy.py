"""bank_gateway ⇐ guarantee: what a batch takes from the policy version it is drafted under.

A subset of the guarantee service's ``GET /v1/policies/{id}``; the rest is ignored.
"""

import uuid
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel


class BatchRiskParameters(BaseModel):
    warning_loss_rate: Decimal
    suspension_loss_rate: Decimal
    compensation_ceiling: Decimal
    ceiling_base: Literal["filed_principal", "batch_quota"] = "filed_principal"
    auto_resume: bool = False


class BankFigureLimits(BaseModel):
    """How far a bank's figures may go (a policy written before these: the defaults)."""

    penalty_interest_markup: Decimal = Decimal("0.50")
    maturity_grace_days: int = 31


class PolicyDocumentForBatches(BaseModel):
    batch_risk: BatchRiskParameters
    bank_figures: BankFigureLimits = BankFigureLimits()


class PolicyVersionSummary(BaseModel):
    id: uuid.UUID
    name: str
    version: int
    status: str
    document: PolicyDocumentForBatches
