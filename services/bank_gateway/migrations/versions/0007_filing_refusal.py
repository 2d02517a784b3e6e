"""备案 refused: why, on the loan

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 10:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('batch_loans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('filing_refusal', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('batch_loans', schema=None) as batch_op:
        batch_op.drop_column('filing_refusal')
