"""API shapes of reference lists and of a firm's verified facts."""

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.guarantee.facts.kinds import ListKind
from services.guarantee.facts.resolution import Standing
from shared.money import Money

ListStatus = Literal["draft", "pending_approval", "approved", "rejected"]


class ListEntryPublic(BaseModel):
    uscc: str
    name: str
    certificate_no: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None


class BadRowPublic(BaseModel):
    row: int = Field(description="Row in the file as a spreadsheet numbers it (header: 1)")
    column: str
    value: str
    finding: str = Field(description="What is wrong, in Chinese")


class ReferenceListPublic(BaseModel):
    id: uuid.UUID
    kind: ListKind
    kind_zh: str
    issuer: str
    batch: str
    title: str
    status: ListStatus
    effective_from: date | None
    expires_on: date | None
    superseded_from: date | None
    in_force_today: bool
    entries: int
    content_hash: str
    source_name: str
    note: str
    created_by: str
    created_at: datetime
    submitted_by: str | None
    submitted_at: datetime | None
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None


class ListImportResult(BaseModel):
    """What the file holds (the preview), and the draft made of it unless ``dry_run``."""

    dry_run: bool
    columns: dict[str, str] = Field(description="Field → the file's header it was read from")
    headers: list[str] = Field(default=[], description="The file's header row, to map from")
    missing_columns: list[str] = Field(
        default=[],
        description="Required fields (uscc, name) no header names: a preview only; map them",
    )
    rows: int
    sample: list[ListEntryPublic] = Field(description="The first entries, as read")
    bad_rows: list[BadRowPublic]
    content_hash: str
    list: ReferenceListPublic | None = Field(
        None, description="The draft (or the list this same file made before)"
    )
    created: bool = False


class ReferenceListPage(BaseModel):
    total: int
    items: list[ReferenceListPublic]


class ListEntryPage(BaseModel):
    total: int
    items: list[ListEntryPublic]


class ListSubmission(BaseModel):
    model_config = ConfigDict(extra="forbid")

    effective_from: date = Field(description="The first day the list counts (Asia/Shanghai)")
    expires_on: date | None = Field(None, description="The last day it counts, if it lapses")


class ListDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(None, max_length=2000)


class FactSource(BaseModel):
    list_id: uuid.UUID
    title: str
    issuer: str
    batch: str


class FactPublic(BaseModel):
    flag: str
    label_zh: str
    declared: bool
    value: bool = Field(description="What the assessment goes by")
    standing: Standing
    standing_zh: str
    source: FactSource | None = None


class FirmFacts(BaseModel):
    uscc: str
    on: date
    facts: list[FactPublic]


ChangeKind = Literal["barred", "benefit_lapsed"]


class ListingChange(BaseModel):
    """A firm with guarantees in force whose standing on the lists changed since: named by a
    barring list in force, or no longer on the list whose benefit its guarantees were issued on."""

    uscc: str
    name: str
    change: ChangeKind
    change_zh: str
    kind: ListKind
    kind_zh: str
    source: FactSource = Field(description="The barring list; or the list that verified it")
    outstanding: Money = Field(description="在保余额 of its guarantees in force (元)")
    guarantees: int
    what_follows_zh: str = Field(description="What the policy in force makes of it")


class ListingChangePage(BaseModel):
    on: date
    total: int
    outstanding: Money = Field(description="在保余额 of all the firms flagged (元)")
    items: list[ListingChange]
