"""The bank's filing of a loan it approved and lent itself (见贷即保)."""

import uuid
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.assessment import Decision, ProposedTerms, Reason
from shared.contracts.filing import Reference
from shared.money import Money, Rate


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
