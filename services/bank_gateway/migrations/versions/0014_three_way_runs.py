"""Three-way reconciliation runs, kept for the console

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 19:05:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from shared.db import JSONType, UTCDateTime

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'three_way_runs',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('requested_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('requested_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('started_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('finished_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('report', JSONType, nullable=True),
        sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_three_way_runs')),
    )
    with op.batch_alter_table('three_way_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_three_way_runs_status'), ['status'], unique=False)
        batch_op.create_index(
            batch_op.f('ix_three_way_runs_requested_at'), ['requested_at'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('three_way_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_three_way_runs_requested_at'))
        batch_op.drop_index(batch_op.f('ix_three_way_runs_status'))
    op.drop_table('three_way_runs')
