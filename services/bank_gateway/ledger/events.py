"""The events a bank reports about its loans: the ``data`` of each Standard Webhooks message
(DESIGN.md §6). Banks generate their clients from these models in the OpenAPI document."""

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.money import Money


class EventData(BaseModel):
    model_config = ConfigDict(extra="forbid")

    loan_id: Any = Field(description="The loan id the gateway gave in batch.opened")


PositiveMoney = Annotated[Money, Field(gt=0)]
Rate = Annotated[Decimal, Field(ge=0, le=1, max_digits=8, decimal_places=6)]


class Approved(EventData):
    approved_amount: PositiveMoney
    annual_interest_rate: Rate
    approved_on: date


class Declined(EventData):
    reason: str = Field(min_length=1, max_length=500)
    declined_on: date


class Disbursed(EventData):
    amount: PositiveMoney
    disbursed_on: date
    maturity_on: date


class Repayment(EventData):
    principal: Annotated[Money, Field(ge=0)]
    interest: Annotated[Money, Field(ge=0)]
    paid_on: date


class Overdue(EventData):
    overdue_principal: PositiveMoney
    since: date


class Defaulted(EventData):
    outstanding_principal: Annotated[Money, Field(ge=0)]
    interest_due: Annotated[Money, Field(ge=0)]
    defaulted_on: date


class ClaimSubmitted(EventData):
    outstanding_principal: Annotated[Money, Field(gt=0)]
    interest_due: Annotated[Money, Field(ge=0)]
    submitted_on: date


class Recovered(EventData):
    amount: PositiveMoney
    recovered_on: date


class Settled(EventData):
    settled_on: date
    interest_paid_total: Annotated[Money, Field(ge=0)] = Field(
        description="All interest paid over the loan: settlement waits until the ledger has it"
    )


EVENT_DATA: dict[str, type[EventData]] = {
    "loan.approved": Approved,
    "loan.declined": Declined,
    "loan.disbursed": Disbursed,
    "loan.repayment": Repayment,
    "loan.overdue": Overdue,
    "loan.defaulted": Defaulted,
    "claim.submitted": ClaimSubmitted,
    "loan.recovered": Recovered,
    "loan.settled": Settled,
}


class BankEvent(BaseModel):
    """One event as a bank sends it (the Standard Webhooks payload shape)."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(
        None, min_length=1, max_length=100, description="Required in the bulk form: its key"
    )
    type: Literal[
        "loan.approved",
        "loan.declined",
        "loan.disbursed",
        "loan.repayment",
        "loan.overdue",
        "loan.defaulted",
        "claim.submitted",
        "loan.recovered",
        "loan.settled",
    ]
    timestamp: str | None = None
    data: dict[str, Any]
