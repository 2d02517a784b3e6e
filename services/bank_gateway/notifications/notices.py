"""What the gateway tells a bank: each notification's body, as the bank receives it.

Every body is ``{"type", "timestamp", "data"}``, signed per Standard Webhooks. The payloads
are built from these models, and the models are the OpenAPI document's ``webhooks``, so a
bank generates its parser from the same document as its client.
"""

import uuid
from datetime import date, datetime
from typing import Any, Literal

from fastapi import FastAPI
from pydantic import BaseModel, Field, create_model

from shared.contracts.claims import ClaimDecision, RecoveryShare
from shared.money import Money, Rate


class LoanNotice(BaseModel):
    loan_id: uuid.UUID = Field(description="The id the bank reports this loan's events under")
    application_id: uuid.UUID
    enterprise_uscc: str
    enterprise_name: str
    amount: Money = Field(description="Allocated in the batch: the most the bank may approve")
    term_months: int
    terms: dict[str, Any] | None = Field(description="Guarantee terms proposed by the policy")


class BatchOpened(BaseModel):
    batch_id: uuid.UUID
    name: str
    quota: Money
    allocated: Money
    valid_from: date
    valid_to: date
    policy_version_id: uuid.UUID
    loans: list[LoanNotice]


class BatchLoansAdded(BaseModel):
    batch_id: uuid.UUID
    loans: list[LoanNotice]


class BatchSuspended(BaseModel):
    batch_id: uuid.UUID
    loss_rate: Rate
    suspension_loss_rate: Rate
    net_loss: Money
    disbursed: Money
    reason_zh: str


class BatchReopened(BaseModel):
    batch_id: uuid.UUID
    loss_rate: Rate


class BatchClosed(BaseModel):
    batch_id: uuid.UUID
    reason: str
    declined_loans: list[uuid.UUID] = Field(description="Loans not approved: now declined")


class FilingRefused(BaseModel):
    loan_id: uuid.UUID
    application_id: uuid.UUID
    batch_id: uuid.UUID
    problem_type: str = Field(description="The fund's finding, e.g. exposure-cap-exceeded")
    reason_zh: str = Field(description="Why, with the figures")


class ClaimRefused(BaseModel):
    loan_id: uuid.UUID
    application_id: uuid.UUID
    batch_id: uuid.UUID
    problem_type: str = Field(description="The fund's finding, e.g. claim-too-early")
    reason_zh: str = Field(description="Why, in the policy's words, with the dates")
    may_resubmit: bool = Field(description="Filed too early: the bank may claim again later")


def _envelope(event_type: str, data: type[BaseModel], doc: str) -> type[BaseModel]:
    name = "".join(part.title() for part in event_type.replace("_", ".").split(".")) + "Notice"
    return create_model(
        name,
        __doc__=doc,
        type=(Literal[event_type], ...),
        timestamp=(datetime, ...),
        data=(data, ...),
    )


NOTICES: dict[str, tuple[type[BaseModel], str]] = {
    "batch.opened": (BatchOpened, "A batch was opened for the bank, with its loans."),
    "batch.loans_added": (BatchLoansAdded, "Loans were allocated into an open batch."),
    "batch.suspended": (
        BatchSuspended,
        "The batch's loss rate reached the suspension line: approvals are refused.",
    ),
    "batch.reopened": (BatchReopened, "A bureau approver reopened a suspended batch."),
    "batch.closed": (BatchClosed, "The batch was closed; loans not approved are declined."),
    "filing.refused": (
        FilingRefused,
        "The guarantee fund refused the loan's 备案: it is not guaranteed (no fee, no claim).",
    ),
    "claim.refused": (
        ClaimRefused,
        "The guarantee fund did not take the claim: filed too early or after the deadline.",
    ),
    "claim.decided": (
        ClaimDecision,
        "The guarantee fund's reviewers decided a claim (代偿): approved, reduced (with the"
        " reason) or denied; the payout fixed within the batch's ceiling.",
    ),
    "claim.paid": (
        ClaimDecision,
        "The guarantee fund paid the compensation due: paid, paid_on, payment_reference.",
    ),
    "recovery.shared": (
        RecoveryShare,
        "A recovery after a payout, split pro rata: the fund's share is owed to the fund.",
    ),
}
ENVELOPES = {name: _envelope(name, data, doc) for name, (data, doc) in NOTICES.items()}


def payload(event_type: str, data: BaseModel) -> dict[str, Any]:
    """The ``data`` of a notification, checked against its model."""
    expected, _ = NOTICES[event_type]
    assert isinstance(data, expected), f"{event_type} carries {expected.__name__}"
    return data.model_dump(mode="json")


def document(app: FastAPI) -> None:
    """List every notification in the OpenAPI document's ``webhooks``."""
    for name, envelope in ENVELOPES.items():
        _, doc = NOTICES[name]

        async def receive(body: envelope) -> None:  # type: ignore[valid-type]
            """Placeholder: only its signature is read, to document the notification."""

        receive.__doc__ = (
            f"{doc}\n\nSigned per Standard Webhooks (`webhook-id`, `webhook-timestamp`, "
            "`webhook-signature`); answer 2xx, or it is retried for 24 h."
        )
        app.webhooks.post(
            name,
            summary=name,
            operation_id=f"notice_{name.replace('.', '_')}",
            response_description="Received: any 2xx",
        )(receive)
