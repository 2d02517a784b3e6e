"""message centre: when an account last read its messages

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 01:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("enterprise_accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("messages_read_at", shared.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("enterprise_accounts", schema=None) as batch_op:
        batch_op.drop_column("messages_read_at")
