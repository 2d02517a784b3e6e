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
    """A claim (代偿申请) on a guarantee: one per loan, reviewed by the fund's staff.

    Filed (``submitted``) with the figures the formula gives (claimable); a reviewer takes
    it (``under_review``) and approves, reduces or denies it — above the policy's amount a
    second person confirms (``awaiting_second``) — and the payout is fixed then, within the
    batch's ceiling; then it is paid (``paid``: date, reference)."""

    __tablename__ = "claims"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    loan_id: uuid.UUID = Field(unique=True)
    guarantee_id: uuid.UUID = Field(foreign_key="guarantees.id")
    batch_id: uuid.UUID = Field(index=True)
    bank_code: str = Field(max_length=40)
    request: dict[str, Any] = Field(sa_type=JSONType)
    status: str = Field(default="submitted", max_length=20, index=True)
    outcome: str = Field(default="pending", max_length=20, index=True)
    coverage_ratio: str = Field(max_length=12)
    outstanding_fen: int = Field(sa_type=sa.BigInteger)
    interest_due_fen: int = Field(sa_type=sa.BigInteger)
    interest_recognised_fen: int = Field(sa_type=sa.BigInteger)
    claimable_fen: int = Field(sa_type=sa.BigInteger)
    # What the decision allows (claimable, less when reduced, 0 when denied); payout_fen is
    # what the batch's ceiling let the fund commit of it so far.
    allowed_fen: int | None = Field(default=None, sa_type=sa.BigInteger)
    payout_fen: int = Field(default=0, sa_type=sa.BigInteger)
    ceiling_rate: str = Field(max_length=12)
    ceiling_fen: int = Field(default=0, sa_type=sa.BigInteger)
    batch_paid_after_fen: int = Field(default=0, sa_type=sa.BigInteger)
    reasons: list[dict[str, Any]] = Field(sa_type=JSONType)
    # Cut by the batch's ceiling when decided: its remainder stays open and is topped up as
    # the batch's room grows (payout_fen is all committed so far; the reasons say when).
    ceiling_cut: bool = Field(default=False, index=True)
    # Recoveries after the payout, as running totals (each recovery's split is its own row).
    recovered_fen: int = Field(default=0, sa_type=sa.BigInteger)
    fund_recovered_fen: int = Field(default=0, sa_type=sa.BigInteger)
    submitted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    # The review: who took it, what was recommended (approve / reduce / deny), and by whom
    # it was decided — the second person when above the policy's amount.
    reviewer: str | None = Field(default=None, max_length=200)
    recommendation: str | None = Field(default=None, max_length=10)
    reduced_to_fen: int | None = Field(default=None, sa_type=sa.BigInteger)
    decision_reason: str | None = Field(default=None, max_length=1000)
    recommended_by: str | None = Field(default=None, max_length=200)
    decided_by: str | None = Field(default=None, max_length=200)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    # Paid to the bank so far, the last payment's day and voucher.
    paid_fen: int = Field(default=0, sa_type=sa.BigInteger)
    paid_on: date | None = None
    payment_reference: str | None = Field(default=None, max_length=60)
    paid_by: str | None = Field(default=None, max_length=200)


class ClaimPayment(GuaranteeModel, table=True):
    """One payment of compensation to the bank: what the fund's payment voucher says."""

    __tablename__ = "claim_payments"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    claim_id: uuid.UUID = Field(foreign_key="claims.id", index=True)
    loan_id: uuid.UUID = Field(index=True)
    amount_fen: int = Field(sa_type=sa.BigInteger)
    paid_on: date
    reference: str = Field(max_length=60)
    paid_by: str = Field(max_length=200)
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ClaimDocument(GuaranteeModel, table=True):
    """A paper the bank uploaded with a loan's claim: its bytes, checked by content."""

    __tablename__ = "claim_documents"
    __table_args__ = (sa.UniqueConstraint("loan_id", "kind", "sha256"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    loan_id: uuid.UUID = Field(index=True)
    kind: str = Field(max_length=40)
    filename: str = Field(max_length=120)
    content_type: str = Field(max_length=40)
    size: int
    sha256: str = Field(max_length=64)
    content: bytes = Field(sa_type=sa.LargeBinary)
    uploaded_by: str = Field(max_length=200)
    uploaded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ClaimNoticeRow(GuaranteeModel, table=True):
    """A claim decided or paid, for the bank gateway: written with the change, sent by the
    claim-notice worker (claims/notices.py) until the gateway has it."""

    __tablename__ = "claim_notices"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    loan_id: uuid.UUID = Field(index=True)
    kind: str = Field(max_length=10)
    body: dict[str, Any] = Field(sa_type=JSONType)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = 0
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    last_error: str | None = Field(default=None, max_length=2000)


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
