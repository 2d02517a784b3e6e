"""Fees and fee subsidies kept as guarantees change (migration 0015, shared/tallies.py): the
subsidy report reads sums per month and bank instead of every guarantee's schedule."""

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field

from services.guarantee.models.base import GuaranteeModel
from shared.db import UTCDateTime


class FeeDue(GuaranteeModel, table=True):
    """One fee period of a guarantee's schedule, as the schedule stood when last settled:
    due on its first day, the fee and the subsidy before the firm's annual cap."""

    __tablename__ = "fee_dues"
    __table_args__ = (
        sa.Index("ix_fee_dues_firm_due", "enterprise_uscc", "due"),
        sa.Index("ix_fee_dues_due", "due"),
        sa.Index("ix_fee_dues_cap_fen", "cap_fen"),
    )

    guarantee_id: uuid.UUID = Field(primary_key=True)
    seq: int = Field(primary_key=True)
    loan_id: uuid.UUID
    due: date
    bank_code: str = Field(max_length=40)
    enterprise_uscc: str = Field(max_length=18)
    fee_fen: int = Field(sa_type=sa.BigInteger)
    subsidy_fen: int = Field(sa_type=sa.BigInteger)
    # The firm's annual cap on fee subsidies frozen in the guarantee (None: no cap).
    cap_fen: int | None = Field(default=None, sa_type=sa.BigInteger)
    issued_at: datetime = Field(sa_type=UTCDateTime)


class FeeSum(GuaranteeModel, table=True):
    """Σ of :class:`FeeDue` per month and bank (``kind`` "month", ``period`` 202601,
    ``party`` the bank's code) and per firm and year ("firm_year", 2026, the USCC — whose
    subsidies above the smallest cap are walked with the cap applied)."""

    __tablename__ = "fee_sums"
    __table_args__ = (sa.Index("ix_fee_sums_largest", "kind", "period", "subsidy_fen"),)

    kind: str = Field(max_length=10, primary_key=True)
    period: int = Field(primary_key=True)
    party: str = Field(max_length=40, primary_key=True)
    periods: int
    fee_fen: int = Field(sa_type=sa.BigInteger)
    subsidy_fen: int = Field(sa_type=sa.BigInteger)


class FeeMark(GuaranteeModel, table=True):
    """A guarantee whose schedule changed since the last settling (a trigger writes it)."""

    __tablename__ = "fee_marks"

    id: int | None = Field(
        default=None,
        primary_key=True,
        sa_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"),  # type: ignore[call-overload]
    )
    guarantee_id: uuid.UUID
