import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field

from services.bank_gateway.models.base import GatewayModel
from shared.clock import utcnow
from shared.db import UTCDateTime


class FiscalPeriod(GatewayModel, table=True):
    """A closed fiscal period (结算期): its statement lines are frozen. Open periods are not
    stored; they follow the last closed one (periods/calendar.py)."""

    __tablename__ = "fiscal_periods"

    key: str = Field(primary_key=True, max_length=20)  # "2026-11", "2026-Q3"
    kind: str = Field(max_length=10)  # monthly | quarterly (the policy's settlement)
    first_day: date
    last_day: date = Field(unique=True)
    closed_by: str = Field(max_length=200)
    closed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StatementLine(GatewayModel, table=True):
    """One loan's amount of one kind in a closed period — or, with ``corrects``, the change
    to an earlier closed period that a late event made, booked in this one."""

    __tablename__ = "statement_lines"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    period_key: str = Field(max_length=20, index=True)
    corrects: str | None = Field(default=None, max_length=20, index=True)
    loan_id: uuid.UUID = Field(index=True)
    application_id: uuid.UUID
    bank_code: str = Field(max_length=40)
    enterprise_uscc: str = Field(max_length=18)
    enterprise_name: str = Field(max_length=200)
    kind: str = Field(max_length=30)
    amount_fen: int = Field(sa_type=sa.BigInteger)


class SubsidyPayout(GatewayModel, table=True):
    """The bureau paid a firm its subsidies of a closed period (拨付), by voucher."""

    __tablename__ = "subsidy_payouts"
    __table_args__ = (sa.UniqueConstraint("period_key", "enterprise_uscc"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    period_key: str = Field(max_length=20, index=True)
    enterprise_uscc: str = Field(max_length=18)
    enterprise_name: str = Field(max_length=200)
    amount_fen: int = Field(sa_type=sa.BigInteger)
    voucher_number: str = Field(max_length=60)
    paid_on: date
    paid_by: str = Field(max_length=200)
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class MoneyEntry(GatewayModel, table=True):
    """The fund's money on a loan as the gateway learned it, dated: compensation paid to the
    bank (代偿支付) and the fund's share of recoveries (追偿返还). The bank's own money is
    in its events (received_events)."""

    __tablename__ = "money_entries"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    loan_id: uuid.UUID = Field(index=True)
    kind: str = Field(max_length=30)
    on_day: date = Field(index=True)
    amount_fen: int = Field(sa_type=sa.BigInteger)
    reference: str = Field(max_length=100)
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
