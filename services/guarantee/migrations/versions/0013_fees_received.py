"""Fees received (担保费实收), recorded against the schedule

Revision ID: 0013
Revises: 0012
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('guarantees', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'fee_collections', shared.db.JSONType, nullable=False, server_default=sa.text("'[]'")
            )
        )


def downgrade() -> None:
    with op.batch_alter_table('guarantees', schema=None) as batch_op:
        batch_op.drop_column('fee_collections')
