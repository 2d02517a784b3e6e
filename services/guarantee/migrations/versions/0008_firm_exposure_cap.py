"""单户在保余额上限: each assessment's firm, and applications that lapsed

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 09:00:00
"""
import json
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import shared.db

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('lapsed_applications',
    sa.Column('application_id', sa.Uuid(), nullable=False),
    sa.Column('lapsed_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('application_id')
    )
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('enterprise_uscc', sqlmodel.sql.sqltypes.AutoString(length=18), nullable=True))
    bind = op.get_bind()
    for assessment_id, request in bind.execute(sa.text("SELECT id, request FROM assessments")).all():
        request = json.loads(request) if isinstance(request, str) else request
        bind.execute(
            sa.text("UPDATE assessments SET enterprise_uscc = :uscc WHERE id = :id"),
            {"uscc": request["enterprise"]["uscc"], "id": assessment_id},
        )
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.alter_column('enterprise_uscc', existing_type=sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False)
        batch_op.create_index(batch_op.f('ix_assessments_enterprise_uscc'), ['enterprise_uscc'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessments_enterprise_uscc'))
        batch_op.drop_column('enterprise_uscc')
    op.drop_table('lapsed_applications')
