import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from services.bank_gateway.models.base import GatewayModel
from shared.clock import utcnow
from shared.db import JSONType, UTCDateTime


class BatchLoan(GatewayModel, table=True):
    """An application allocated into a batch: the start of a loan in the ledger."""

    __tablename__ = "batch_loans"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    batch_id: uuid.UUID = Field(foreign_key="batches.id", index=True)
    # Unique: an application is never in two batches.
    application_id: uuid.UUID = Field(unique=True)
    # Indexed: the console names firms by it (a page of 在保余额, a firm's loans).
    enterprise_uscc: str = Field(max_length=18, index=True)
    enterprise_name: str = Field(max_length=200)
    amount_fen: int = Field(sa_type=sa.BigInteger)
    term_months: int
    terms: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    state: str = Field(default="allocated", max_length=20)
    allocated_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # The ledger, fed by the bank's events (ledger/rules.py).
    approved_fen: int = Field(default=0, sa_type=sa.BigInteger)
    disbursed_fen: int = Field(default=0, sa_type=sa.BigInteger)
    outstanding_fen: int = Field(default=0, sa_type=sa.BigInteger)
    repaid_fen: int = Field(default=0, sa_type=sa.BigInteger)
    interest_paid_fen: int = Field(default=0, sa_type=sa.BigInteger)
    recovered_fen: int = Field(default=0, sa_type=sa.BigInteger)
    annual_interest_rate: str | None = Field(default=None, max_length=20)
    approved_on: date | None = None
    disbursed_on: date | None = None
    maturity_on: date | None = None
    overdue_since: date | None = None
    # The day the bank declared the default: a claim's filing deadline runs from it.
    defaulted_on: date | None = None
    # Each repayment as [paid_on, principal fen, interest fen]: the interest a bank reports
    # is checked against the outstanding day by day (ledger/rules.py).
    payments: list[list[Any]] = Field(default_factory=list, sa_type=JSONType)
    ever_overdue: bool = False
    # Why the fund refused the loan's 备案 (state unguaranteed).
    filing_refusal: str | None = Field(default=None, max_length=1000)
    last_event_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The claim (代偿): pending while the guarantee service decides, then its outcome.
    claim_status: str | None = Field(default=None, max_length=20)
    compensation_fen: int = Field(default=0, sa_type=sa.BigInteger)
    fund_recovered_fen: int = Field(default=0, sa_type=sa.BigInteger)
    claim_decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # What the fund has paid the bank of its compensation, the last payment's day and voucher.
    compensation_paid_fen: int = Field(default=0, sa_type=sa.BigInteger)
    compensation_paid_on: date | None = None
    compensation_reference: str | None = Field(default=None, max_length=60)
