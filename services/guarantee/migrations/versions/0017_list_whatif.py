"""What-if over a reference list version before it takes effect

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 01:00:00

Issue 18: a what-if job may try a list version (a draft, or one awaiting approval or its
first day) as if it were in force, instead of a policy version.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("whatif_jobs") as batch:
        batch.add_column(sa.Column("reference_list_id", sa.Uuid(), nullable=True))
        batch.create_foreign_key(
            "fk_whatif_jobs_reference_list", "reference_lists", ["reference_list_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("whatif_jobs") as batch:
        batch.drop_constraint("fk_whatif_jobs_reference_list", type_="foreignkey")
        batch.drop_column("reference_list_id")
