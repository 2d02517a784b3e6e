"""A firm's request that a declared benefit be reviewed, its certificate attached

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 02:00:00

Issue 18: a firm that believes a list is wrong (its 高新技术企业 certificate is not on the
list in force) asks for review; a bureau approver accepts it (the firm goes into the
bureau's own register list of that kind) or rejects it with why.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.db import UTCDateTime

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fact_reviews",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("enterprise_uscc", sa.String(length=18), nullable=False),
        sa.Column("enterprise_name", sa.String(length=200), nullable=False),
        sa.Column("flag", sa.String(length=30), nullable=False),
        sa.Column("certificate_no", sa.String(length=100), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("note", sa.String(length=2000), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("document_name", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("decision_note", sa.String(length=2000), nullable=True),
        sa.Column(
            "register_list_id", sa.Uuid(), sa.ForeignKey("reference_lists.id"), nullable=True
        ),
    )
    op.create_index("ix_fact_reviews_enterprise_uscc", "fact_reviews", ["enterprise_uscc"])
    op.create_index("ix_fact_reviews_status_created", "fact_reviews", ["status", "created_at"])
    op.create_index("ix_fact_reviews_application", "fact_reviews", ["application_id"])


def downgrade() -> None:
    op.drop_table("fact_reviews")
