"""bank_gateway ⇐ loan_intake: what the gateway reads of an application to allocate it.

A subset of intake's ``GET /v1/applications/{id}`` answer; the rest is ignored, so intake
may add fields without breaking the gateway.
"""

import uuid
from datetime import datetime

from pydantic import BaseModel

from shared.contracts.assessment import ProposedTerms, Reason
from shared.money import Money


class AllocationEnterprise(BaseModel):
    uscc: str
    name: str


class AllocationLoan(BaseModel):
    amount: Money
    term_months: int
    preferred_bank: str | None = None


class ApplicationForAllocation(BaseModel):
    id: uuid.UUID
    status: str
    enterprise: AllocationEnterprise
    loan: AllocationLoan
    terms: ProposedTerms | None = None
    policy_version_id: uuid.UUID | None = None
    reasons: list[Reason] | None = None


class ApplicationListed(BaseModel):
    """One row of intake's ``GET /v1/applications`` list (a subset)."""

    id: uuid.UUID
    amount: Money
    preferred_bank: str | None = None
    created_at: datetime


class ApplicationList(BaseModel):
    items: list[ApplicationListed]
    total: int
