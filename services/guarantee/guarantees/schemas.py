"""API shapes of guarantees in force: frozen terms and the fee schedule."""

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field

from shared.contracts.guarantee import ReleaseReason
from shared.money import Money


class FeePeriod(BaseModel):
    period_from: date
    period_to: date
    days: int
    fee: Money
    subsidy: Money
    payable: Money


class GuaranteePublic(BaseModel):
    id: uuid.UUID
    loan_id: uuid.UUID
    application_id: uuid.UUID
    assessment_id: uuid.UUID
    batch_id: uuid.UUID
    bank_code: str
    policy_version_id: uuid.UUID
    policy_hash: str
    principal: Money
    guaranteed_amount: Money
    coverage_ratio: str
    annual_fee_rate: str
    fee_subsidy_share: str
    interest_subsidy_share: str
    disbursed_on: date
    maturity_on: date
    fee: Money
    fee_subsidy: Money
    fee_payable: Money
    schedule: list[FeePeriod]
    issued_at: datetime
    released_on: date | None = Field(
        None, description="解保: the first day without the guarantee; no fee after it"
    )
    release_reason: ReleaseReason | None = None
