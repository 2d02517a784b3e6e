"""bank_gateway → loan_intake: an application a bank files for a loan it approved and lent
itself (见贷即保), for an enterprise that may never have used the portal. Intake owns
enterprises and applications: it records and assesses it, and answers as its
``GET /v1/applications/{id}`` would (``ApplicationForAllocation`` reads the part the gateway
needs)."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.assessment import BankCheck

Reference = Field(
    pattern=r"^[\x21-\x7e]{1,64}$",
    description="The bank's own reference of the filing (1–64 visible ASCII characters): "
    "the same reference again answers as the first time",
)


class BankFiledApplication(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bank_code: str = Field(max_length=40)
    reference: str = Reference
    # Intake's ApplicationCreate (enterprise facts and the loan applied for): checked there,
    # where the rules for them live; its field errors come back to the bank as they are.
    application: dict[str, Any]
    # The bank's own checks, which the assessment keeps as attested facts.
    checks: list[BankCheck] = Field(default=[], max_length=10)
