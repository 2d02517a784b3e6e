"""API shapes of the loan ledger: loans with their figures, what became of a bank's events,
batch risk, and a bank's statement reconciled against the ledger."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.bank_gateway.models import BatchStatus
from shared.money import Money


class BatchLoanPublic(BaseModel):
    id: uuid.UUID
    application_id: uuid.UUID
    enterprise_uscc: str
    enterprise_name: str
    amount: Money
    term_months: int
    state: str
    terms: dict[str, Any] | None
    created_at: datetime
    approved: Money
    disbursed: Money
    outstanding: Money
    repaid: Money
    interest_paid: Money
    annual_interest_rate: str | None
    disbursed_on: date | None
    maturity_on: date | None
    claim_status: str | None
    compensation: Money
    compensation_paid: Money = Field(description="Paid to the bank so far by the fund")
    compensation_paid_on: date | None
    compensation_reference: str | None = Field(description="The fund's payment voucher")
    recovered: Money
    recovered_to_fund: Money
    last_event_at: datetime | None


class BatchLoanPage(BaseModel):
    items: list[BatchLoanPublic]
    total: int
    offset: int
    limit: int


class EventOutcome(BaseModel):
    """What became of one event."""

    id: str = Field(description="The event's key: webhook-id, or its id in the bulk form")
    status: str = Field(description="applied | held (waits for its predecessor) | refused")
    loan_id: uuid.UUID | None = None
    loan_state: str | None = None
    problem: dict[str, Any] | None = Field(None, description="Why refused (RFC 9457 fields)")


class BulkResult(BaseModel):
    results: list[EventOutcome]
    applied: int
    held: int
    refused: int


class BatchRisk(BaseModel):
    """A batch's figures, live from its loan ledger."""

    batch_id: uuid.UUID
    status: BatchStatus
    quota: Money
    allocated: Money
    quota_used: Decimal = Field(description="allocated ÷ quota")
    loans_by_state: dict[str, int]
    disbursed: Money = Field(description="Principal disbursed (the batch's guaranteed volume)")
    outstanding: Money
    overdue: Money = Field(description="Outstanding principal of loans overdue")
    defaulted: Money = Field(
        description="Outstanding principal of loans in default whose claim is not decided yet"
    )
    compensation_paid: Money = Field(description="Paid by the fund on decided claims")
    recovered_to_fund: Money = Field(description="The fund's share of recoveries since")
    fund_exposure: Money = Field(
        Decimal("0.00"), description="The fund's coverage of defaulted: what a payout would be"
    )
    net_loss: Money = Field(description="fund exposure + compensation paid − recovered to the fund")
    loss_rate: Decimal = Field(description="net loss ÷ disbursed")
    warning_loss_rate: Decimal
    suspension_loss_rate: Decimal
    compensation_ceiling: Decimal
    compensation_ceiling_amount: Money = Field(description="ceiling × disbursed")
    compensation_room: Money = Field(description="What claims may still be paid under it")
    level: str = Field(description="normal | warning | suspension")


class StatementLine(BaseModel):
    """One loan as the bank's books have it. The money figures are optional — a bank that
    states them has each compared with the ledger, line by line and in total."""

    model_config = ConfigDict(extra="forbid")

    loan_id: uuid.UUID
    state: str = Field(max_length=20)
    outstanding: Money
    principal_repaid: Money | None = Field(None, description="All principal repaid so far")
    interest_received: Money | None = Field(None, description="All interest received so far")
    compensation_received: Money | None = Field(
        None, description="Compensation (代偿) the guarantee fund has paid the bank"
    )
    recovered: Money | None = Field(None, description="All recovered after the default")
    recoveries_to_fund: Money | None = Field(
        None, description="Of what was recovered, the fund's share (owed to the fund)"
    )
    fees_collected: Money | None = Field(
        None,
        description="Guarantee fees the bank collected from the firm for the fund: compared "
        "with the receipts the fund recorded (担保费实收)",
    )


class Statement(BaseModel):
    """A bank's view of its loans on a date, to compare with the gateway's ledger."""

    model_config = ConfigDict(extra="forbid")

    as_of: date
    loans: list[StatementLine] = Field(max_length=20_000)


class Mismatch(BaseModel):
    loan_id: uuid.UUID
    field: str = Field(description="state | outstanding | a money figure of the statement")
    bank: str
    gateway: str
    message: str = Field("", description="The difference, in Chinese")


class MoneyTotal(BaseModel):
    """A money figure summed over the statement's lines that state it, both sides."""

    field: str
    label: str
    lines: int
    bank: Money
    gateway: Money


class MissingEvent(BaseModel):
    loan_id: uuid.UUID
    code: str = Field(description="approved_not_disbursed | no_repayment_report")
    message: str
    days: int = Field(description="Days since the loan's last event, as of the statement")


class ReconciliationReport(BaseModel):
    as_of: date
    checked: int
    matched: int
    mismatches: list[Mismatch]
    unknown_loans: list[uuid.UUID] = Field(description="In the statement, not this bank's loans")
    missing_from_statement: list[uuid.UUID] = Field(
        description="This bank's live loans the statement leaves out"
    )
    missing_events: list[MissingEvent]
    waiting_events: dict[str, int] = Field(
        description="Loan id → events held for a predecessor that has not arrived"
    )
    money_totals: list[MoneyTotal] = Field(
        default_factory=list, description="Each money figure the statement gives, in total"
    )


class ThreeWayDifference(BaseModel):
    loan_id: uuid.UUID
    application_id: uuid.UUID
    enterprise_name: str
    source: str = Field(description="Who disagrees with the ledger: guarantee or intake")
    what: str = Field(description="The figure, in Chinese")
    ledger: str
    other: str
    in_flight: bool = Field(description="A notice about the loan is still on its way")
    cause: str


class ThreeWayTotals(BaseModel):
    """The ledger's and the fund's sums over the loans checked (in force: 在保余额)."""

    ledger_outstanding: Money
    fund_outstanding: Money
    ledger_compensation: Money
    fund_payout: Money
    ledger_compensation_paid: Money
    fund_paid: Money
    ledger_fund_recovered: Money
    fund_recovered: Money


class ThreeWayReport(BaseModel):
    as_of: datetime
    batch_id: uuid.UUID | None
    loans_checked: int
    differences: list[ThreeWayDifference]
    in_flight: int = Field(description="Differences a notice on its way will close")
    totals: ThreeWayTotals
