"""Fees and fee subsidies kept per month and bank as schedules change

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 21:30:00

The subsidy report walked every guarantee's schedule on every view (4.4 s at 10,000 loans, a
time-out from 100,000: bench/README.md). ``fee_dues`` holds each guarantee's fee periods,
``fee_sums`` their sums per month and bank and per firm and year; triggers on ``guarantees``
mark a guarantee in ``fee_marks`` whenever it is issued or its schedule changes, and the
report settles the marks before it reads (shared/tallies.py). Every guarantee there already
is marked once here: the first report settles them.
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from shared.db import UTCDateTime

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What a fee period depends on: the schedule and who it is billed to.
WATCHED = "schedule, bank_code, enterprise_uscc, fee_subsidy_firm_annual_cap, loan_id"


def _postgresql() -> None:
    op.execute(
        """
        CREATE FUNCTION fee_mark() RETURNS trigger AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                INSERT INTO fee_marks (guarantee_id) VALUES (OLD.id);
            ELSE
                INSERT INTO fee_marks (guarantee_id) VALUES (NEW.id);
            END IF;
            RETURN NULL;
        END $$ LANGUAGE plpgsql;
        """
    )
    op.execute(
        f"CREATE TRIGGER guarantees_fee_mark AFTER INSERT OR DELETE OR UPDATE OF {WATCHED}"
        " ON guarantees FOR EACH ROW EXECUTE FUNCTION fee_mark()"
    )


def _sqlite() -> None:
    mark = "INSERT INTO fee_marks (guarantee_id) VALUES ({}.id);"
    op.execute(
        "CREATE TRIGGER guarantees_fee_mark_insert AFTER INSERT ON guarantees"
        f" BEGIN {mark.format('NEW')} END"
    )
    op.execute(
        f"CREATE TRIGGER guarantees_fee_mark_update AFTER UPDATE OF {WATCHED} ON guarantees"
        f" BEGIN {mark.format('NEW')} END"
    )
    op.execute(
        "CREATE TRIGGER guarantees_fee_mark_delete AFTER DELETE ON guarantees"
        f" BEGIN {mark.format('OLD')} END"
    )


def upgrade() -> None:
    op.create_table(
        'fee_dues',
        sa.Column('guarantee_id', sa.Uuid(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('loan_id', sa.Uuid(), nullable=False),
        sa.Column('due', sa.Date(), nullable=False),
        sa.Column('bank_code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('enterprise_uscc', sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
        sa.Column('fee_fen', sa.BigInteger(), nullable=False),
        sa.Column('subsidy_fen', sa.BigInteger(), nullable=False),
        sa.Column('cap_fen', sa.BigInteger(), nullable=True),
        sa.Column('issued_at', UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('guarantee_id', 'seq', name=op.f('pk_fee_dues')),
    )
    op.create_index('ix_fee_dues_firm_due', 'fee_dues', ['enterprise_uscc', 'due'])
    op.create_index('ix_fee_dues_due', 'fee_dues', ['due'])
    op.create_index('ix_fee_dues_cap_fen', 'fee_dues', ['cap_fen'])
    op.create_table(
        'fee_sums',
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('period', sa.Integer(), nullable=False),
        sa.Column('party', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('periods', sa.Integer(), nullable=False),
        sa.Column('fee_fen', sa.BigInteger(), nullable=False),
        sa.Column('subsidy_fen', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('kind', 'period', 'party', name=op.f('pk_fee_sums')),
    )
    op.create_index('ix_fee_sums_largest', 'fee_sums', ['kind', 'period', 'subsidy_fen'])
    op.create_table(
        'fee_marks',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('guarantee_id', sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_fee_marks')),
    )
    if op.get_bind().dialect.name == 'postgresql':
        _postgresql()
    else:
        _sqlite()
    op.execute("INSERT INTO fee_marks (guarantee_id) SELECT id FROM guarantees")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER guarantees_fee_mark ON guarantees")
        op.execute("DROP FUNCTION fee_mark()")
    else:
        for name in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER guarantees_fee_mark_{name}")
    op.drop_table('fee_marks')
    op.drop_index('ix_fee_sums_largest', table_name='fee_sums')
    op.drop_table('fee_sums')
    op.drop_index('ix_fee_dues_cap_fen', table_name='fee_dues')
    op.drop_index('ix_fee_dues_due', table_name='fee_dues')
    op.drop_index('ix_fee_dues_firm_due', table_name='fee_dues')
    op.drop_table('fee_dues')
