"""The events a bank reports about its loans: the ``data`` of each Standard Webhooks message
(DESIGN.md §6). Banks generate their clients from these models in the OpenAPI document."""

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, create_model, model_validator

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

    @model_validator(mode="after")
    def _pays_something(self) -> "Repayment":
        if not self.principal and not self.interest:
            raise ValueError("还款本金与利息不能都为零 (a repayment pays principal or interest)")
        return self


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


class _Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(
        None, min_length=1, max_length=100, description="Required in the bulk form: its key"
    )
    timestamp: str | None = None


def _event_model(event_type: str, data: type[EventData]) -> type[_Envelope]:
    name = "".join(part.title() for part in event_type.split(".")) + "Event"
    return create_model(
        name,
        __base__=_Envelope,
        __doc__=f"``{event_type}``: its ``data`` is a {data.__name__}.",
        type=(Literal[event_type], ...),  # type: ignore[valid-type]
        data=(data, ...),
    )


EVENT_MODELS = {
    event_type: _event_model(event_type, data) for event_type, data in EVENT_DATA.items()
}

# One event as a bank sends it (the Standard Webhooks payload shape): its ``type`` says which
# ``data`` it carries, so a bank's generated client has one class per event.
BankEvent = Annotated[Union[tuple(EVENT_MODELS.values())], Field(discriminator="type")]  # type: ignore[valid-type]  # noqa: UP007
BANK_EVENT: TypeAdapter[Any] = TypeAdapter(BankEvent)


def openapi_schemas() -> tuple[dict[str, Any], dict[str, Any]]:
    """(the schema of one event, referring to components; the components it needs)."""
    schema = BANK_EVENT.json_schema(ref_template="#/components/schemas/{model}")
    components = schema.pop("$defs", {})
    return schema, components
