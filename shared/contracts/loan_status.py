"""bank_gateway → loan_intake: a change in the life of an application's loan.

The gateway sends one of these for every state change it learns (allocation into a batch
now; approval, disbursement, repayments… as banks report them), so the SME's status page
follows the loan. ``update_id`` makes a redelivered update a no-op.
"""

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# Slugs of ``problem_type`` the gateway acts on: loan_intake names them in its outcomes.
APPLICATION_NOT_FOUND = "application-not-found"
TRANSITION_NOT_ALLOWED = "transition-not-allowed"


class LoanStatusUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    update_id: uuid.UUID = Field(description="Unique per change; the same id again is a no-op")
    status: str = Field(description="The application status this change leads to")
    occurred_at: datetime
    reason_zh: str = Field(max_length=500, description="Shown to the SME in its history")
    batch_id: uuid.UUID | None = None
    bank_code: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    news: bool = Field(
        False,
        description="A fact of the loan that leaves its status as it is (a subsidy paid out): "
        "kept in the history under the application's current status, never a transition",
    )


class LoanStatusUpdateFor(LoanStatusUpdate):
    """One update of a batch: which application it is for."""

    application_id: uuid.UUID


class LoanStatusUpdateBatch(BaseModel):
    """Updates applied in the order given; a refused one holds back the later ones of the
    same application (``skipped``), so an application's history never skips a step."""

    model_config = ConfigDict(extra="forbid")

    updates: list[LoanStatusUpdateFor] = Field(min_length=1, max_length=500)


class LoanStatusUpdateOutcome(BaseModel):
    update_id: uuid.UUID
    outcome: Literal["applied", "duplicate", "refused", "skipped"]
    problem_type: str | None = Field(
        None, description="Why refused: the slug of the problem (APPLICATION_NOT_FOUND, …)"
    )
    detail: str | None = None


class LoanStatusUpdateBatchResult(BaseModel):
    results: list[LoanStatusUpdateOutcome]
