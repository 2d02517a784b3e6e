"""application numbers (QP-2026-000123)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 00:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("number", sa.BigInteger(), nullable=True))
    # Those filed so far are numbered in the order they came.
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id FROM applications ORDER BY created_at, id")).all()
    for number, (application_id,) in enumerate(rows, start=1):
        bind.execute(
            sa.text("UPDATE applications SET number = :n WHERE id = :id"),
            {"n": number, "id": application_id},
        )
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_applications_number", ["number"])
    if bind.dialect.name == "postgresql":
        op.execute(f"CREATE SEQUENCE application_numbers START WITH {len(rows) + 1}")
        op.execute(
            "ALTER TABLE applications ALTER COLUMN number SET DEFAULT nextval('application_numbers')"
        )
        op.execute("ALTER SEQUENCE application_numbers OWNED BY applications.number")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE applications ALTER COLUMN number DROP DEFAULT")
        op.execute("DROP SEQUENCE application_numbers")
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_constraint("uq_applications_number", type_="unique")
        batch_op.drop_column("number")
