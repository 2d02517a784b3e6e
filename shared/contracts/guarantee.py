"""bank_gateway → guarantee: a disbursed loan filed (备案) so the fund stands behind it."""

import uuid
from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from shared.money import Money


class GuaranteeFiling(BaseModel):
    model_config = ConfigDict(extra="forbid")

    loan_id: uuid.UUID = Field(description="The gateway's loan id; one guarantee per loan")
    application_id: uuid.UUID
    batch_id: uuid.UUID
    bank_code: str
    principal: Money = Field(description="Disbursed principal")
    disbursed_on: date
    maturity_on: date
