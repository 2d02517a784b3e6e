"""贴息 kept as loans change (migration 0016, shared/tallies.py): the subsidy report reads
sums per month and bank instead of walking every loan's payments."""

import uuid

import sqlalchemy as sa
from sqlmodel import Field

from services.bank_gateway.models.base import GatewayModel


class InterestMonth(GatewayModel, table=True):
    """One lent loan's month, as its figures stood when last settled: repayments, interest
    paid, of it without 贴息, and the 贴息 before the firm's annual cap (interest_subsidy.py)."""

    __tablename__ = "interest_months"
    __table_args__ = (
        sa.Index("ix_interest_months_firm_month", "enterprise_uscc", "month"),
        sa.Index("ix_interest_months_cap_fen", "cap_fen"),
    )

    loan_id: uuid.UUID = Field(primary_key=True)
    month: int = Field(primary_key=True)  # 202601
    bank_code: str = Field(max_length=40)
    enterprise_uscc: str = Field(max_length=18)
    repayments: int
    interest_fen: int = Field(sa_type=sa.BigInteger)
    unsubsidised_fen: int = Field(sa_type=sa.BigInteger)
    subsidy_fen: int = Field(sa_type=sa.BigInteger)
    cap_fen: int | None = Field(default=None, sa_type=sa.BigInteger)


class InterestOpenLoan(GatewayModel, table=True):
    """A loan whose 贴息 by points has no end in its terms and whose principal is not all
    repaid: its months are kept through ``through_month``; later ones are walked on view."""

    __tablename__ = "interest_open_loans"

    loan_id: uuid.UUID = Field(primary_key=True)
    through_month: int


class InterestSum(GatewayModel, table=True):
    """Σ of :class:`InterestMonth` per month and bank ("month", 202601, the bank's code) and
    per firm and year ("firm_year", 2026, the USCC)."""

    __tablename__ = "interest_sums"
    __table_args__ = (sa.Index("ix_interest_sums_largest", "kind", "period", "subsidy_fen"),)

    kind: str = Field(max_length=10, primary_key=True)
    period: int = Field(primary_key=True)
    party: str = Field(max_length=40, primary_key=True)
    repayments: int
    interest_fen: int = Field(sa_type=sa.BigInteger)
    unsubsidised_fen: int = Field(sa_type=sa.BigInteger)
    subsidy_fen: int = Field(sa_type=sa.BigInteger)


class InterestMark(GatewayModel, table=True):
    """A loan whose 贴息 may have changed since the last settling (a trigger writes it)."""

    __tablename__ = "interest_marks"

    id: int | None = Field(
        default=None,
        primary_key=True,
        sa_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"),  # type: ignore[call-overload]
    )
    loan_id: uuid.UUID
