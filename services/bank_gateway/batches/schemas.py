"""API shapes of batches and allocation."""

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.bank_gateway.models import BatchStatus
from shared.money import Money


class BatchCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    bank_code: str
    name: Annotated[str, StringConstraints(min_length=2, max_length=200)]
    quota: Money = Field(gt=0, description="批次额度 (yuan)")
    valid_from: date
    valid_to: date
    policy_version_id: uuid.UUID = Field(
        description="The guarantee policy version whose terms apply"
    )


class BatchClosing(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: Annotated[str, StringConstraints(min_length=2, max_length=500)] = Field(
        description="关闭原因, shown to the bank and to SMEs whose loans were not approved"
    )


class BatchPublic(BaseModel):
    id: uuid.UUID
    bank_code: str
    bank_name: str
    name: str
    quota: Money
    allocated: Money
    available: Money
    loans: int
    valid_from: date
    valid_to: date
    policy_version_id: uuid.UUID
    status: BatchStatus
    status_zh: str
    created_by: str
    created_at: datetime
    submitted_by: str | None
    submitted_at: datetime | None
    approved_by: str | None
    approved_at: datetime | None


class BatchPage(BaseModel):
    items: list[BatchPublic]
    total: int
    offset: int
    limit: int


class AllocationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    application_ids: list[uuid.UUID] = Field(min_length=1, max_length=200)


class AutoAllocationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_applications: int = Field(200, ge=1, le=200, description="At most this many this call")
    include_no_preference: bool = Field(
        True, description="Also applications that named no bank (after those naming this one)"
    )
    include_other_banks: bool = Field(
        False, description="Also applications that named another bank (last)"
    )


class AllocationOutcome(BaseModel):
    application_id: uuid.UUID
    allocated: bool
    code: str | None = Field(None, description="Why not: not_found, not_eligible, in_a_batch, …")
    message: str | None = None
    amount: Money | None = None


class AllocationResult(BaseModel):
    batch: BatchPublic
    outcomes: list[AllocationOutcome]


class AutoAllocationResult(AllocationResult):
    scanned: int = Field(description="Eligible applications looked at in loan_intake")
    chosen: dict[str, int] = Field(
        description="How many were chosen by preference: this_bank, no_preference, other_bank"
    )
