"""Loans found by firm: the console names the firms of a 在保余额 page by them

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 19:26:00

Without it, naming a page's 50 firms read every loan (O(portfolio), bench/scale.py).
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('batch_loans', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_batch_loans_enterprise_uscc'), ['enterprise_uscc'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('batch_loans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_batch_loans_enterprise_uscc'))
