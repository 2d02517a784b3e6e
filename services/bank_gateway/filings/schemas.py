"""The bank's filing of a loan it approved and lent itself (见贷即保)."""

import uuid
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from shared.contracts.assessment import CHECK_ZH, BankCheck, Decision, ProposedTerms, Reason
from shared.contracts.filing import Reference
from shared.money import Money, Rate

# A credit report older than this at the approval is not the bank's check of this loan.
CHECK_MAX_AGE_DAYS = 90


class FiledLoan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: Money = Field(gt=0, description="Approved and disbursed principal")
    term_months: int = Field(ge=1, le=120)
    purpose: str = Field(min_length=2, max_length=500)
    annual_interest_rate: Rate
    approved_on: date
    disbursed_on: date
    maturity_on: date


class BankFiling(BaseModel):
    """备案 of a loan the bank approved and lent within its batch, for an enterprise that may
    never have used the portal. The fund assesses it against the policy in force today."""

    model_config = ConfigDict(extra="forbid")

    reference: str = Reference
    batch_id: uuid.UUID
    enterprise: dict[str, Any] = Field(
        description="The enterprise's facts, as an SME gives them in loan_intake's "
        "ApplicationCreate.enterprise (uscc, name, registered_district, sector, employees, "
        "annual_revenue, total_assets, established_on, flags …)"
    )
    loan: FiledLoan
    checks: list[BankCheck] = Field(
        default=[],
        max_length=10,
        description="The bank's own checks before it lent (征信, 涉诉), kept in the "
        "assessment's trace as attested facts: each on a day no later than the approval "
        f"and no more than {CHECK_MAX_AGE_DAYS} days before it",
    )

    @model_validator(mode="after")
    def _checks_when_lent(self) -> "BankFiling":
        approved = self.loan.approved_on
        for check in self.checks:
            if check.checked_on > approved or (approved - check.checked_on).days > (
                CHECK_MAX_AGE_DAYS
            ):
                raise PydanticCustomError(
                    "check_date",
                    "checked_on must fall within {days} days up to approved_on",
                    {
                        "days": CHECK_MAX_AGE_DAYS,
                        "message_zh": f"{CHECK_ZH[check.check]}的查询日 {check.checked_on} 须在"
                        f"批准日 {approved} 之前 {CHECK_MAX_AGE_DAYS} 天内",
                    },
                )
        if len({c.check for c in self.checks}) != len(self.checks):
            raise PydanticCustomError(
                "check_twice",
                "each check at most once",
                {"message_zh": "同一类核查只能报送一次"},
            )
        return self


class FilingAccepted(BaseModel):
    """Assessed eligible and booked: the loan is in the batch, disbursed; its 备案 is with
    the fund, which issues the guarantee or refuses it (``filing.refused``)."""

    reference: str
    application_id: uuid.UUID
    loan_id: uuid.UUID
    batch_id: uuid.UUID
    loan_state: str
    decision: Decision
    reasons: list[Reason]
    terms: ProposedTerms | None


class BankFilings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filings: list[BankFiling] = Field(min_length=1, max_length=100)


class FilingResult(BaseModel):
    """One filing of a bulk: ``accepted`` (booked now), ``repeat`` (booked before under its
    reference), or ``refused`` with its problem (RFC 9457 fields)."""

    reference: str
    status: str
    accepted: FilingAccepted | None = None
    problem: dict[str, Any] | None = None


class BulkFilingResult(BaseModel):
    results: list[FilingResult]
    accepted: int
    refused: int
