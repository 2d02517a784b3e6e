"""guarantee release (解保)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 20:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import shared.db

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('guarantees', schema=None) as batch_op:
        batch_op.add_column(sa.Column('released_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('release_reason', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))
        batch_op.add_column(sa.Column('released_at', shared.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('guarantees', schema=None) as batch_op:
        batch_op.drop_column('released_at')
        batch_op.drop_column('release_reason')
        batch_op.drop_column('released_on')
