import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from services.guarantee.models.base import GuaranteeModel
from shared.clock import utcnow
from shared.db import JSONType, UTCDateTime


class Guarantee(GuaranteeModel, table=True):
    """A guarantee in force: issued when the bank files a disbursed loan, terms frozen from
    the application's assessment."""

    __tablename__ = "guarantees"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    loan_id: uuid.UUID = Field(unique=True)
    application_id: uuid.UUID = Field(index=True)
    # The firm, by its 统一社会信用代码: its 在保余额 is summed across batches and banks.
    enterprise_uscc: str = Field(max_length=18, index=True)
    assessment_id: uuid.UUID = Field(foreign_key="assessments.id")
    batch_id: uuid.UUID = Field(index=True)
    bank_code: str = Field(max_length=40)
    policy_version_id: uuid.UUID
    policy_hash: str = Field(max_length=64)
    filing: dict[str, Any] = Field(sa_type=JSONType)
    principal_fen: int = Field(sa_type=sa.BigInteger)
    guaranteed_fen: int = Field(sa_type=sa.BigInteger)
    coverage_ratio: str = Field(max_length=12)
    annual_fee_rate: str = Field(max_length=12)
    fee_subsidy_share: str = Field(max_length=12)
    interest_subsidy_share: str = Field(max_length=12)
    disbursed_on: date
    maturity_on: date
    fee_fen: int = Field(sa_type=sa.BigInteger)
    fee_subsidy_fen: int = Field(sa_type=sa.BigInteger)
    schedule: list[dict[str, Any]] = Field(sa_type=JSONType)
    # 在保余额: the outstanding principal the fund stands behind — the principal at filing,
    # each repayment's balance as the bank reports it, 0 once released.
    outstanding_fen: int = Field(sa_type=sa.BigInteger)
    outstanding_on: date | None = None
    # The principal of each repayment as [day, fen] (the fall of each report, which the
    # gateway sends in the order it applied them): what was outstanding on any day, for a
    # fee on each period's outstanding whatever order the repayments were reported in.
    repayments: list[list[Any]] = Field(default_factory=list, sa_type=JSONType)
    # Each day the loan fell overdue (ISO dates): a fee period due from then until the next
    # repayment (the cure) gets no fee subsidy.
    overdue_since: list[str] = Field(default_factory=list, sa_type=JSONType)
    # The policy's cap on a firm's fee subsidy in a calendar year (frozen from the
    # assessment; None: no cap), applied over the firm's guarantees in the subsidy report.
    fee_subsidy_firm_annual_cap: str | None = Field(default=None, max_length=20)
    # 担保费实收: each receipt the fund recorded, as {period_from, collected_on, amount_fen,
    # reference, recorded_by, recorded_at} (collections.py checks them against the schedule).
    fee_collections: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType)
    issued_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # 解保: the guarantee ended (settled, paid out, written off); no fee after this day.
    released_on: date | None = None
    release_reason: str | None = Field(default=None, max_length=20)
    released_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ExposureTotal(GuaranteeModel, table=True):
    """在保余额 per firm, batch, bank or policy version: the guarantees in force (outstanding
    above 0) and their outstanding, as of the last fold of :class:`ExposureDelta` (migration
    0014), so the report reads a page of these instead of grouping every guarantee."""

    __tablename__ = "exposure_totals"
    __table_args__ = (
        sa.Index("ix_exposure_totals_largest", "group_kind", "outstanding_fen", "key"),
    )

    group_kind: str = Field(max_length=20, primary_key=True)
    key: str = Field(max_length=64, primary_key=True)
    guarantees: int
    outstanding_fen: int = Field(sa_type=sa.BigInteger)


class ExposureSummary(GuaranteeModel, table=True):
    """Per group: how many keys have guarantees in force, how many guarantees, their
    outstanding — the report's totals line, kept with :class:`ExposureTotal` by the fold."""

    __tablename__ = "exposure_summaries"

    group_kind: str = Field(max_length=20, primary_key=True)
    keys: int
    guarantees: int
    outstanding_fen: int = Field(sa_type=sa.BigInteger)


class ExposureDelta(GuaranteeModel, table=True):
    """A move of one :class:`ExposureTotal`, appended by the database triggers on
    ``guarantees`` in the transaction that changes one; folded into the totals (and deleted)
    before the report reads them. Append-only, so writers never wait on a total's row."""

    __tablename__ = "exposure_deltas"

    id: int | None = Field(
        default=None,
        primary_key=True,
        sa_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"),  # type: ignore[call-overload]
    )
    group_kind: str = Field(max_length=20)
    key: str = Field(max_length=64)
    guarantees: int
    outstanding_fen: int = Field(sa_type=sa.BigInteger)
