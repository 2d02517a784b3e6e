import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from services.guarantee.models.base import GuaranteeModel
from shared.clock import utcnow
from shared.db import JSONType, UTCDateTime


class BatchCompensation(GuaranteeModel, table=True):
    """Compensation paid in one batch: the row every claim of the batch locks, so two claims
    decided at once can never pay past the batch's ceiling together."""

    __tablename__ = "batch_compensation"

    batch_id: uuid.UUID = Field(primary_key=True)
    paid_fen: int = Field(default=0, sa_type=sa.BigInteger)
    fund_recovered_fen: int = Field(default=0, sa_type=sa.BigInteger)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Claim(GuaranteeModel, table=True):
    """A claim (代偿申请) on a guarantee, decided when filed: one per loan."""

    __tablename__ = "claims"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    loan_id: uuid.UUID = Field(unique=True)
    guarantee_id: uuid.UUID = Field(foreign_key="guarantees.id")
    batch_id: uuid.UUID = Field(index=True)
    bank_code: str = Field(max_length=40)
    request: dict[str, Any] = Field(sa_type=JSONType)
    outcome: str = Field(max_length=20, index=True)
    coverage_ratio: str = Field(max_length=12)
    outstanding_fen: int = Field(sa_type=sa.BigInteger)
    interest_due_fen: int = Field(sa_type=sa.BigInteger)
    interest_recognised_fen: int = Field(sa_type=sa.BigInteger)
    claimable_fen: int = Field(sa_type=sa.BigInteger)
    payout_fen: int = Field(sa_type=sa.BigInteger)
    ceiling_rate: str = Field(max_length=12)
    ceiling_fen: int = Field(sa_type=sa.BigInteger)
    batch_paid_after_fen: int = Field(sa_type=sa.BigInteger)
    reasons: list[dict[str, Any]] = Field(sa_type=JSONType)
    # Cut by the batch's ceiling when decided: its remainder stays open and is topped up as
    # the batch's room grows (payout_fen is all paid so far; the reasons say when).
    ceiling_cut: bool = Field(default=False, index=True)
    # Recoveries after the payout, as running totals (each recovery's split is its own row).
    recovered_fen: int = Field(default=0, sa_type=sa.BigInteger)
    fund_recovered_fen: int = Field(default=0, sa_type=sa.BigInteger)
    decided_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class Recovery(GuaranteeModel, table=True):
    """Money recovered from a defaulted borrower after a claim, split pro rata."""

    __tablename__ = "recoveries"

    id: uuid.UUID = Field(primary_key=True, description="The gateway's recovery id")
    claim_id: uuid.UUID = Field(foreign_key="claims.id", index=True)
    loan_id: uuid.UUID
    amount_fen: int = Field(sa_type=sa.BigInteger)
    fund_share_fen: int = Field(sa_type=sa.BigInteger)
    bank_share_fen: int = Field(sa_type=sa.BigInteger)
    recovered_on: date
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
