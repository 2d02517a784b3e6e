"""The day a loan defaulted: a claim's filing deadline runs from it

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 18:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('batch_loans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('defaulted_on', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('batch_loans', schema=None) as batch_op:
        batch_op.drop_column('defaulted_on')
