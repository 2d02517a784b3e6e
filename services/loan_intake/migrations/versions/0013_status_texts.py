"""texts to the firm when its application moves: the sender's cursor

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 01:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notice_cursors",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    # What happened before this release is not texted now.
    op.execute(
        "INSERT INTO notice_cursors (name, last_event_id) "
        "SELECT 'status_texts', COALESCE(MAX(id), 0) FROM application_events"
    )


def downgrade() -> None:
    op.drop_table("notice_cursors")
