"""Fee on each period's outstanding, no fee subsidy while overdue: each guarantee's
repayments and the days it fell overdue

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 14:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import shared.db

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('guarantees', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('repayments', shared.db.JSONType, nullable=True)
        )
        batch_op.add_column(
            sa.Column('overdue_since', shared.db.JSONType, nullable=True)
        )
        batch_op.add_column(
            sa.Column('fee_subsidy_firm_annual_cap', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True)
        )
    # Earlier repayments are known only as the outstanding they left: one repayment of the
    # difference on the day of the last report.
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT id, principal_fen, outstanding_fen, outstanding_on, released_on FROM guarantees")
    ).all()
    for gid, principal, outstanding, on, released in rows:
        paid = [] if released is not None or outstanding >= principal or on is None else [
            [str(on), principal - outstanding]
        ]
        bind.execute(
            sa.text(
                "UPDATE guarantees SET repayments = :paid, overdue_since = :none WHERE id = :id"
            ).bindparams(
                sa.bindparam("paid", type_=shared.db.JSONType),
                sa.bindparam("none", type_=shared.db.JSONType),
            ),
            {"paid": paid, "none": [], "id": gid},
        )
    with op.batch_alter_table('guarantees', schema=None) as batch_op:
        batch_op.alter_column('repayments', existing_type=shared.db.JSONType, nullable=False)
        batch_op.alter_column('overdue_since', existing_type=shared.db.JSONType, nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('guarantees', schema=None) as batch_op:
        batch_op.drop_column('fee_subsidy_firm_annual_cap')
        batch_op.drop_column('overdue_since')
        batch_op.drop_column('repayments')
