"""API shapes of claims (代偿), their review and payment, and the recoveries after them."""

import uuid
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.claims import ClaimDecision, RecoveryShare
from shared.money import Money


class ClaimPublic(ClaimDecision):
    id: uuid.UUID
    bank_code: str
    submitted_at: datetime
    submitted_on: date | None
    reviewer: str | None = Field(description="Who took it for review")
    recommendation: str | None = Field(description="approve, reduce or deny, as recommended")
    recommended_by: str | None
    reduced_to: Money | None
    decided_by: str | None = Field(description="Who decided: the second person above the amount")
    paid_by: str | None
    recovered: Money
    fund_recovered: Money
    bank_recovered: Money
    recoveries: list[RecoveryShare]


class ClaimPage(BaseModel):
    items: list[ClaimPublic]
    total: int
    offset: int
    limit: int


class Verdict(StrEnum):
    APPROVE = "approve"
    REDUCE = "reduce"
    DENY = "deny"


class ClaimReview(BaseModel):
    """A reviewer's decision: approve as the formula gives, reduce to an amount (with the
    reason), or deny (with the reason)."""

    model_config = ConfigDict(extra="forbid")

    verdict: Verdict
    amount: Money | None = Field(
        None, gt=0, description="reduce: what the fund pays, less than the claimable amount"
    )
    reason: str | None = Field(None, max_length=1000, description="Required to reduce or deny")


class SecondReview(BaseModel):
    """The second person's answer to a recommendation above the policy's amount."""

    model_config = ConfigDict(extra="forbid")

    agree: bool
    note: str | None = Field(None, max_length=1000, description="Required to send it back")


class ClaimPaymentIn(BaseModel):
    """The fund paid what is due on the claim: the day and the payment voucher."""

    model_config = ConfigDict(extra="forbid")

    paid_on: date
    reference: str = Field(min_length=1, max_length=60, pattern=r"^[0-9A-Za-z\-_/]+$")
    amount: Money = Field(gt=0, description="Must be what is due: decided and not yet paid")


class ClaimPaymentPublic(BaseModel):
    id: uuid.UUID
    amount: Money
    paid_on: date
    reference: str
    paid_by: str
    recorded_at: datetime


class ClaimRoom(BaseModel):
    """What the reviewer weighs: the batch's ceiling and what is left of it now."""

    loan_id: uuid.UUID
    batch_id: uuid.UUID
    claimable: Money
    ceiling_base: Money
    ceiling_rate: str
    ceiling_amount: Money
    batch_compensation: Money = Field(description="Committed in the batch so far")
    room: Money = Field(description="ceiling − committed: the most this claim can be paid now")
    second_review_above: Money
    needs_second_review: bool
    min_days_overdue: int
    filing_deadline_days: int
    required_documents: list[str]
    documents_missing: list[str] = Field(description="Required papers not uploaded yet")
