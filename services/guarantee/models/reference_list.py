"""Reference lists the bureau receives from their issuers (issue 18): which firms are
专精特新, 小巨人, 高新技术企业, 科技型中小企业 — and which are 失信被执行人 or on the 三高一低
phase-out list. An assessment resolves a firm's declared facts against the lists in force
on its date (facts/resolution.py)."""

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field

from services.guarantee.models.base import GuaranteeModel
from shared.clock import utcnow
from shared.db import UTCDateTime


class ReferenceList(GuaranteeModel, table=True):
    """One imported list: its kind, issuer and batch, the days it is in force, its firms.

    Like a policy version: a draft (imported, entries fixed) is submitted with the day it
    takes effect and approved by another person with the right to approve; approval is
    final. A later approved list of the same kind, issuer and batch replaces it from its own
    ``effective_from`` (a firm dropped from the new one is off the list from then)."""

    __tablename__ = "reference_lists"
    __table_args__ = (sa.Index("ix_reference_lists_series", "kind", "issuer", "batch"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    kind: str = Field(max_length=30, index=True)
    issuer: str = Field(max_length=200)
    batch: str = Field(max_length=200)
    title: str = Field(max_length=300)
    status: str = Field(max_length=20, index=True)  # draft | pending_approval | approved | rejected
    effective_from: date | None = None
    expires_on: date | None = None  # the list says it lapses (e.g. 专精特新: three years)
    # Set on approval when a later version of the same series takes over from its start.
    superseded_from: date | None = None
    # sha256 over the sorted entries: the same file imported twice is the same list.
    content_hash: str = Field(max_length=64, index=True)
    entries: int
    source_name: str = Field(default="", max_length=300)
    note: str = Field(default="", max_length=2000)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    submitted_by: str | None = Field(default=None, max_length=200)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by: str | None = Field(default=None, max_length=200)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision_note: str | None = Field(default=None, max_length=2000)


class ReferenceEntry(GuaranteeModel, table=True):
    """A firm on a list, as the issuer named it (certificate number and its own validity when
    the list gives them: a 高新技术企业 certificate runs three years from its issue)."""

    __tablename__ = "reference_entries"
    __table_args__ = (sa.Index("ix_reference_entries_uscc", "uscc"),)

    list_id: uuid.UUID = Field(foreign_key="reference_lists.id", primary_key=True)
    uscc: str = Field(max_length=18, primary_key=True)
    name: str = Field(max_length=200)
    certificate_no: str | None = Field(default=None, max_length=100)
    valid_from: date | None = None
    valid_to: date | None = None


class GuaranteeBenefit(GuaranteeModel, table=True):
    """A benefit a guarantee was issued on, verified by a list (专精特新's cap, …): if the
    firm later drops off every list of that kind while the guarantee is in force, the
    console flags it (facts/changes) — written when the guarantee is issued."""

    __tablename__ = "guarantee_benefits"
    __table_args__ = (sa.Index("ix_guarantee_benefits_kind_firm", "kind", "enterprise_uscc"),)

    guarantee_id: uuid.UUID = Field(foreign_key="guarantees.id", primary_key=True)
    kind: str = Field(max_length=30, primary_key=True)
    enterprise_uscc: str = Field(max_length=18)
    list_id: uuid.UUID = Field(foreign_key="reference_lists.id")
