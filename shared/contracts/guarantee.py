"""bank_gateway → guarantee: a disbursed loan filed (备案) so the fund stands behind it."""

import uuid
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.assessment import Uscc
from shared.money import Money, Rate


class GuaranteeFiling(BaseModel):
    """备案: what the gateway's ledger knows of a disbursed loan and its batch. The guarantee
    service checks it against the batch and the terms frozen at assessment before it stands
    behind the loan (guarantees/filing.py). The batch and approval facts are optional only so
    that filings queued before they were sent still parse; what is absent is not checked."""

    model_config = ConfigDict(extra="forbid")

    loan_id: uuid.UUID = Field(description="The gateway's loan id; one guarantee per loan")
    application_id: uuid.UUID
    batch_id: uuid.UUID
    bank_code: str
    principal: Money = Field(description="Disbursed principal")
    disbursed_on: date
    maturity_on: date
    term_months: int | None = Field(None, ge=1, description="The loan's term, as applied for")
    annual_interest_rate: Rate | None = Field(None, description="The bank's contract rate")
    approved_amount: Money | None = None
    approved_on: date | None = None
    allocated_amount: Money | None = Field(None, description="Allocated in the batch")
    batch_valid_from: date | None = Field(None, description="The batch's window: loans")
    batch_valid_to: date | None = Field(None, description="disbursed inside it only")


class ReleaseReason(StrEnum):
    SETTLED = "settled"  # the borrower repaid in full (early or at maturity)
    COMPENSATED = "compensated"  # the fund paid the claim
    WRITTEN_OFF = "written_off"


class GuaranteeRelease(BaseModel):
    """bank_gateway → guarantee: the guarantee of a loan ends (解保). No fee is billed and no
    subsidy paid for its days after ``released_on``."""

    model_config = ConfigDict(extra="forbid")

    released_on: date = Field(description="The first day the fund no longer stands behind it")
    reason: ReleaseReason


class GuaranteeOutstanding(BaseModel):
    """bank_gateway → guarantee: the loan's outstanding principal after a repayment, which
    is the guarantee's 在保余额 (guaranteed outstanding) from that day."""

    model_config = ConfigDict(extra="forbid")

    outstanding: Money = Field(ge=0, description="Outstanding principal after the repayment")
    on: date = Field(description="The repayment's day")


class GuaranteeOverdue(BaseModel):
    """bank_gateway → guarantee: the loan fell overdue on ``since``. A fee period falling
    due while it is overdue (until the repayment that cures it) gets no fee subsidy."""

    model_config = ConfigDict(extra="forbid")

    since: date


class FirmsExposureRequest(BaseModel):
    """bank_gateway → guarantee: the 在保余额 of these firms (at allocation)."""

    model_config = ConfigDict(extra="forbid")

    usccs: list[Uscc] = Field(min_length=1, max_length=1000)


class FirmExposure(BaseModel):
    uscc: str
    outstanding: Money = Field(description="在保余额: outstanding of its guarantees in force")


class FirmsExposure(BaseModel):
    items: list[FirmExposure]


class FeeSubsidyRow(BaseModel):
    """Guarantee fees billed in one month by one bank's loans (a period's fee falls due on
    its first day), and the district's subsidy of them."""

    month: str = Field(pattern=r"^\d{4}-\d{2}$")
    bank_code: str
    periods: int
    fee: Money
    fee_subsidy: Money


class FeeSubsidyReport(BaseModel):
    month_from: str
    month_to: str
    rows: list[FeeSubsidyRow]


class FeeLine(BaseModel):
    """One loan's fee line of a month: the fee falling due, the district's subsidy of it
    (the firm's annual cap applied), and the fees the fund received from the firm."""

    month: str = Field(pattern=r"^\d{4}-\d{2}$")
    loan_id: uuid.UUID
    bank_code: str
    uscc: str
    fee: Money
    fee_subsidy: Money
    collected: Money = Field(description="担保费实收: received from the firm in the month")


class FeeLines(BaseModel):
    month_from: str
    month_to: str
    rows: list[FeeLine]
