"""bank_gateway → guarantee and loan_intake: their figures per loan, for the three-way
reconciliation the gateway runs (its ledger ⇄ the fund's guarantees and claims ⇄ the SME's
application status). Read-only: asking changes nothing."""

import uuid
from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from shared.money import Money

MAX_PER_REQUEST = 500


class LoanIds(BaseModel):
    model_config = ConfigDict(extra="forbid")

    loan_ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_PER_REQUEST)


class FundLoanView(BaseModel):
    """One loan as the guarantee service holds it."""

    loan_id: uuid.UUID
    guaranteed: bool = Field(description="A guarantee was issued (备案 accepted)")
    outstanding: Money = Field(description="在保余额: 0 once released")
    released_on: date | None
    release_reason: str | None
    claim_status: str | None = Field(description="submitted … paid; None: no claim")
    payout: Money = Field(description="Compensation committed by the fund's decision")
    paid: Money = Field(description="Compensation paid to the bank")
    fund_recovered: Money = Field(description="The fund's share of recoveries")
    fees_collected: Money = Field(
        default=Decimal(0), description="担保费实收: the fees the fund recorded as received"
    )
    notices_pending: bool = Field(description="A decision or payment not yet told the gateway")


class FundLoanViews(BaseModel):
    items: list[FundLoanView]


class ApplicationIds(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_PER_REQUEST)


class ApplicationStatusView(BaseModel):
    id: uuid.UUID
    status: str


class ApplicationStatusViews(BaseModel):
    items: list[ApplicationStatusView]
