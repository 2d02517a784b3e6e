"""The ceiling's base and whether a suspension lifts by itself, frozen into each batch

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 14:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Batches before this version: the ceiling on filed principal, reopened by hand.
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ceiling_base', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False, server_default='filed_principal'))
        batch_op.add_column(sa.Column('auto_resume', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.alter_column('ceiling_base', server_default=None)
        batch_op.alter_column('auto_resume', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.drop_column('auto_resume')
        batch_op.drop_column('ceiling_base')
