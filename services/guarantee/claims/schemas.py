"""API shapes of claims (代偿) and the recoveries after them."""

import uuid

from pydantic import BaseModel

from shared.contracts.claims import ClaimDecision, RecoveryShare
from shared.money import Money


class ClaimPublic(ClaimDecision):
    id: uuid.UUID
    bank_code: str
    recovered: Money
    fund_recovered: Money
    bank_recovered: Money
    recoveries: list[RecoveryShare]


class ClaimPage(BaseModel):
    items: list[ClaimPublic]
    total: int
    offset: int
    limit: int
