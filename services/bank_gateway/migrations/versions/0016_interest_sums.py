"""贴息 kept per month and bank as loans change

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 22:00:00

The subsidy report walked every lent loan's payments, day by day for 贴息 by points, on
every view (4.4 s at 10,000 loans, a time-out from 100,000: bench/README.md).
``interest_months`` holds each lent loan's months, ``interest_sums`` their sums per month
and bank and per firm and year; triggers on ``batch_loans`` mark a loan in
``interest_marks`` whenever what its 贴息 depends on changes, and the report settles the
marks before it reads (shared/tallies.py). Every loan there already is marked once here: the
first report settles them.
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What a loan's 贴息 depends on: its state (a refused 备案 takes it out; overdue), its money
# and days, its frozen terms and who it is lent to and by (the batch names the bank).
WATCHED = (
    "state, disbursed_on, disbursed_fen, payments, overdue_since, terms, enterprise_uscc,"
    " batch_id"
)


def _postgresql() -> None:
    op.execute(
        """
        CREATE FUNCTION interest_mark() RETURNS trigger AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                INSERT INTO interest_marks (loan_id) VALUES (OLD.id);
            ELSE
                INSERT INTO interest_marks (loan_id) VALUES (NEW.id);
            END IF;
            RETURN NULL;
        END $$ LANGUAGE plpgsql;
        """
    )
    op.execute(
        f"CREATE TRIGGER batch_loans_interest_mark AFTER INSERT OR DELETE OR UPDATE OF {WATCHED}"
        " ON batch_loans FOR EACH ROW EXECUTE FUNCTION interest_mark()"
    )


def _sqlite() -> None:
    mark = "INSERT INTO interest_marks (loan_id) VALUES ({}.id);"
    op.execute(
        "CREATE TRIGGER batch_loans_interest_mark_insert AFTER INSERT ON batch_loans"
        f" BEGIN {mark.format('NEW')} END"
    )
    op.execute(
        f"CREATE TRIGGER batch_loans_interest_mark_update AFTER UPDATE OF {WATCHED}"
        f" ON batch_loans BEGIN {mark.format('NEW')} END"
    )
    op.execute(
        "CREATE TRIGGER batch_loans_interest_mark_delete AFTER DELETE ON batch_loans"
        f" BEGIN {mark.format('OLD')} END"
    )


def upgrade() -> None:
    op.create_table(
        'interest_months',
        sa.Column('loan_id', sa.Uuid(), nullable=False),
        sa.Column('month', sa.Integer(), nullable=False),
        sa.Column('bank_code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('enterprise_uscc', sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
        sa.Column('repayments', sa.Integer(), nullable=False),
        sa.Column('interest_fen', sa.BigInteger(), nullable=False),
        sa.Column('unsubsidised_fen', sa.BigInteger(), nullable=False),
        sa.Column('subsidy_fen', sa.BigInteger(), nullable=False),
        sa.Column('cap_fen', sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint('loan_id', 'month', name=op.f('pk_interest_months')),
    )
    op.create_index(
        'ix_interest_months_firm_month', 'interest_months', ['enterprise_uscc', 'month']
    )
    op.create_index('ix_interest_months_cap_fen', 'interest_months', ['cap_fen'])
    op.create_table(
        'interest_open_loans',
        sa.Column('loan_id', sa.Uuid(), nullable=False),
        sa.Column('through_month', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('loan_id', name=op.f('pk_interest_open_loans')),
    )
    op.create_table(
        'interest_sums',
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('period', sa.Integer(), nullable=False),
        sa.Column('party', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('repayments', sa.Integer(), nullable=False),
        sa.Column('interest_fen', sa.BigInteger(), nullable=False),
        sa.Column('unsubsidised_fen', sa.BigInteger(), nullable=False),
        sa.Column('subsidy_fen', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('kind', 'period', 'party', name=op.f('pk_interest_sums')),
    )
    op.create_index(
        'ix_interest_sums_largest', 'interest_sums', ['kind', 'period', 'subsidy_fen']
    )
    op.create_table(
        'interest_marks',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('loan_id', sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_interest_marks')),
    )
    if op.get_bind().dialect.name == 'postgresql':
        _postgresql()
    else:
        _sqlite()
    op.execute("INSERT INTO interest_marks (loan_id) SELECT id FROM batch_loans")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER batch_loans_interest_mark ON batch_loans")
        op.execute("DROP FUNCTION interest_mark()")
    else:
        for name in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER batch_loans_interest_mark_{name}")
    op.drop_table('interest_marks')
    op.drop_index('ix_interest_sums_largest', table_name='interest_sums')
    op.drop_table('interest_sums')
    op.drop_table('interest_open_loans')
    op.drop_index('ix_interest_months_cap_fen', table_name='interest_months')
    op.drop_index('ix_interest_months_firm_month', table_name='interest_months')
    op.drop_table('interest_months')
