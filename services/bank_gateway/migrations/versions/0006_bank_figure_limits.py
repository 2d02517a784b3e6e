"""A bank's figures checked: the batch's limits, each loan's approval day and repayments

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 09:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from sqlalchemy.dialects import postgresql

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('penalty_interest_markup', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False, server_default='0.50'))
        batch_op.add_column(sa.Column('maturity_grace_days', sa.Integer(), nullable=False, server_default='31'))
    # Loans before this version: no repayment list (their interest so far is taken as it
    # stands; the next repayment is checked against the outstanding since the disbursal).
    with op.batch_alter_table('batch_loans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('approved_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('payments', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('ever_overdue', sa.Boolean(), nullable=False, server_default=sa.false()))
    # The defaults only fill the rows there are; new rows get theirs from the models.
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.alter_column('penalty_interest_markup', server_default=None)
        batch_op.alter_column('maturity_grace_days', server_default=None)
    with op.batch_alter_table('batch_loans', schema=None) as batch_op:
        batch_op.alter_column('payments', server_default=None)
        batch_op.alter_column('ever_overdue', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('batch_loans', schema=None) as batch_op:
        batch_op.drop_column('ever_overdue')
        batch_op.drop_column('payments')
        batch_op.drop_column('approved_on')
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.drop_column('maturity_grace_days')
        batch_op.drop_column('penalty_interest_markup')
