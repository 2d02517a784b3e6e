"""bank_gateway ⇄ guarantee: a defaulted loan's claim (代偿申请) and the recoveries after it.

The gateway files what the bank reported (``POST /v1/claims``); the guarantee service takes
it for review (a :class:`ClaimReceipt`) or refuses it (outside the policy's window). The
fund's reviewers decide it and record its payment; each step comes back to the gateway as a
:class:`ClaimNotice` (the guarantee service's outbox → ``POST /v1/claim-notices``), which
records it on the loan and tells the bank (``claim.decided``, ``claim.paid``). Recoveries
after a payout go the gateway → guarantee way (``POST /v1/claims/{loan_id}/recoveries``)
and come back split between fund and bank. All idempotent: the same again changes nothing.
"""

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.money import Money, Rate


class ClaimRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    loan_id: uuid.UUID = Field(description="The gateway's loan id; one claim per loan")
    application_id: uuid.UUID
    batch_id: uuid.UUID
    bank_code: str
    outstanding_principal: Money = Field(description="Principal outstanding at default")
    interest_due: Money = Field(description="Interest the borrower owes, as the bank reports it")
    annual_interest_rate: Rate = Field(description="The loan's rate, for the interest cap")
    submitted_on: date
    # When the loan fell overdue and when the bank declared the default, as the ledger
    # recorded them: the policy's timing rules run from these (absent only on claims stored
    # before they were sent; a new claim without them is refused).
    overdue_since: date | None = None
    defaulted_on: date | None = None
    compensation_ceiling: Rate = Field(
        description="The batch's ceiling: compensation never passes this share of its volume"
    )
    ceiling_base_amount: Money | None = Field(
        None,
        description="What the ceiling is a share of when the policy fixes it (the batch's "
        "quota); absent: the principal filed in the batch, as it grows",
    )


class ClaimOutcome(StrEnum):
    PENDING = "pending"  # not decided yet: under review
    PAID = "paid"  # all that the decision allows
    PARTIALLY_PAID = "partially_paid"  # up to the batch's ceiling; the rest stays open
    REFUSED = "refused"  # nothing payable: the ceiling is used up
    DENIED = "denied"  # the fund's reviewers denied it


class ClaimStatus(StrEnum):
    """Where a claim is in the fund's review (DESIGN.md §4a)."""

    SUBMITTED = "submitted"  # filed by the bank, waiting for a reviewer
    UNDER_REVIEW = "under_review"  # a reviewer has taken it
    AWAITING_SECOND = "awaiting_second"  # above the policy's amount: a second person confirms
    APPROVED = "approved"  # coverage × (principal + interest recognised), within the ceiling
    REDUCED = "reduced"  # less than the formula gives, with the reason (a "repair")
    DENIED = "denied"  # nothing, with the reason
    PAID = "paid"  # all decided is paid: date and payment reference


class ClaimReceipt(BaseModel):
    """The guarantee service took the claim for review."""

    loan_id: uuid.UUID
    claim_id: uuid.UUID
    status: ClaimStatus
    submitted_at: datetime


class ClaimReason(BaseModel):
    code: str
    message_zh: str
    message_en: str


class ClaimDecision(BaseModel):
    loan_id: uuid.UUID
    batch_id: uuid.UUID
    outcome: ClaimOutcome
    coverage_ratio: Rate
    outstanding_principal: Money
    interest_due: Money
    interest_recognised: Money = Field(description="Interest due, capped by the policy")
    claimable: Money = Field(description="coverage × (principal + interest recognised)")
    payout: Money = Field(description="What the fund pays (代偿金额)")
    refused: Money = Field(description="claimable − payout: what the ceiling did not allow")
    ceiling_amount: Money = Field(description="The batch's ceiling × its guaranteed volume")
    batch_compensation_after: Money = Field(description="All paid in the batch, this included")
    reasons: list[ClaimReason]
    decided_at: datetime
    status: ClaimStatus = Field(
        ClaimStatus.APPROVED, description="approved, reduced or denied; paid once all is paid"
    )
    decision_reason: str | None = Field(None, description="Why reduced or denied")
    paid: Money = Field(Decimal("0.00"), description="Paid to the bank so far")
    paid_on: date | None = None
    payment_reference: str | None = Field(None, description="The fund's payment voucher")


class ClaimDocumentPublic(BaseModel):
    """A paper uploaded with a loan's claim (its bytes: ``GET …/documents/{id}``)."""

    id: uuid.UUID
    loan_id: uuid.UUID
    kind: str = Field(description="The policy's code, e.g. collection_records")
    kind_zh: str
    filename: str = Field(description="As uploaded: a label, never a path")
    content_type: str = Field(description="Recognised from the content: PDF, JPEG or PNG")
    size: int
    sha256: str
    uploaded_at: datetime


class ClaimNotice(BaseModel):
    """guarantee → bank_gateway: a claim decided (``decided``) or paid (``paid``), with the
    claim as it stands. ``notice_id`` is unique per notice; a repeat changes nothing."""

    model_config = ConfigDict(extra="forbid")

    notice_id: uuid.UUID
    kind: Literal["decided", "paid"]
    decision: ClaimDecision


class ClaimTopUpRequest(BaseModel):
    """bank_gateway → guarantee: the batch's guaranteed volume grew (a loan was filed): pay
    what its ceiling now allows of the claims it cut."""

    model_config = ConfigDict(extra="forbid")

    batch_id: uuid.UUID


class ClaimTopUps(BaseModel):
    """Every claim of the batch the ceiling ever cut, as it stands now: ``payout`` is all
    paid on it so far, ``refused`` what is still open. The gateway records any increase."""

    batch_id: uuid.UUID
    topped_up: Money = Field(description="Paid by this request, over all its claims")
    decisions: list[ClaimDecision]


class RecoveryReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    recovery_id: uuid.UUID = Field(description="Unique per recovery; the same id again is a no-op")
    amount: Money = Field(gt=0)
    recovered_on: date


class RecoveryShare(BaseModel):
    recovery_id: uuid.UUID
    loan_id: uuid.UUID
    amount: Money
    fund_share: Money = Field(description="Owed to the fund: payout ÷ claimed base of it")
    bank_share: Money
    fund_recovered_total: Money
    bank_recovered_total: Money
    recovered_on: date
