"""API shapes of guarantees in force: frozen terms and the fee schedule."""

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from services.guarantee.policies.fees import FeePeriod
from shared.contracts.guarantee import ReleaseReason
from shared.money import Money


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
    enterprise_uscc: str = Field(description="The firm (统一社会信用代码)")
    outstanding: Money = Field(
        description="在保余额: outstanding principal the fund stands behind; 0 once released"
    )
    outstanding_on: date | None = Field(None, description="The day of the last change to it")


ExposureGroup = Literal["enterprise", "batch", "bank", "policy_version"]


class ExposureRow(BaseModel):
    key: str = Field(description="The USCC, batch id, bank code or policy version id")
    guarantees: int = Field(description="Guarantees in force (在保笔数)")
    outstanding: Money = Field(description="在保余额")


class ExposureReport(BaseModel):
    """在保余额 by one grouping: the largest first."""

    group: ExposureGroup
    total_guarantees: int
    total_outstanding: Money
    groups: int = Field(description="How many keys hold exposure (for paging)")
    rows: list[ExposureRow]


class EnterpriseExposure(BaseModel):
    """One firm's 在保余额 across batches and banks, and the guarantees behind it."""

    uscc: str
    outstanding: Money
    guarantees: list[GuaranteePublic]


class FeeCollectionCreate(BaseModel):
    """担保费实收: what the fund received from the firm for one fee period (its share, the
    fee less the district's subsidy), by receipt."""

    model_config = {"extra": "forbid"}

    period_from: date = Field(description="The fee period paid for (its first day)")
    amount: Money = Field(gt=0, description="Received, at most the period's payable still open")
    collected_on: date = Field(description="The day the money arrived (Asia/Shanghai)")
    reference: str = Field(
        min_length=1, max_length=60, description="The receipt number: the same one again is a no-op"
    )


class FeeCollectionPublic(FeeCollectionCreate):
    model_config = {"extra": "ignore"}

    recorded_by: str
    recorded_at: datetime


class FeeCollections(BaseModel):
    loan_id: uuid.UUID
    payable: Money = Field(description="The firm's share of the fees billed so far")
    collected: Money
    items: list[FeeCollectionPublic]
