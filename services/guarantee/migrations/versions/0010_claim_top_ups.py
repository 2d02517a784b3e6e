"""A claim cut by the batch's ceiling keeps its remainder open

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 14:20:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('ceiling_cut', sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_index(batch_op.f('ix_claims_ceiling_cut'), ['ceiling_cut'], unique=False)
    # Claims decided before: cut where the payout fell short of the claimable amount.
    op.execute("UPDATE claims SET ceiling_cut = (payout_fen < claimable_fen)")


def downgrade() -> None:
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claims_ceiling_cut'))
        batch_op.drop_column('ceiling_cut')
