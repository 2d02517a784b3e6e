"""在保余额: each guarantee's outstanding principal and its firm

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 21:00:00
"""
import json
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('guarantees', schema=None) as batch_op:
        batch_op.add_column(sa.Column('enterprise_uscc', sqlmodel.sql.sqltypes.AutoString(length=18), nullable=True))
        batch_op.add_column(sa.Column('outstanding_fen', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('outstanding_on', sa.Date(), nullable=True))
    # Guarantees issued before: the firm from the assessment's request, the whole principal
    # outstanding unless released (repayments reported before this version are not known).
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT g.id, g.principal_fen, g.released_on, a.request FROM guarantees g"
        " JOIN assessments a ON a.id = g.assessment_id"
    )).all()
    for guarantee_id, principal_fen, released_on, request in rows:
        request = json.loads(request) if isinstance(request, str) else request
        bind.execute(
            sa.text("UPDATE guarantees SET enterprise_uscc = :uscc, outstanding_fen = :fen WHERE id = :id"),
            {"uscc": request["enterprise"]["uscc"], "fen": 0 if released_on else principal_fen, "id": guarantee_id},
        )
    with op.batch_alter_table('guarantees', schema=None) as batch_op:
        batch_op.alter_column('enterprise_uscc', existing_type=sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False)
        batch_op.alter_column('outstanding_fen', existing_type=sa.BigInteger(), nullable=False)
        batch_op.create_index(batch_op.f('ix_guarantees_enterprise_uscc'), ['enterprise_uscc'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('guarantees', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_guarantees_enterprise_uscc'))
        batch_op.drop_column('outstanding_on')
        batch_op.drop_column('outstanding_fen')
        batch_op.drop_column('enterprise_uscc')
