"""Reference lists: the issuers' lists a firm's declared facts are verified against

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 22:15:00

Issue 18: 专精特新, 小巨人, 高新技术企业, 科技型中小企业, 失信被执行人 and 三高一低 lists, each
imported as a draft, approved by a second person and in force from a day; their firms by
USCC (facts/resolution.py).
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from shared.db import UTCDateTime

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(length: int, nullable: bool = False) -> dict:
    return {"type_": sqlmodel.sql.sqltypes.AutoString(length=length), "nullable": nullable}


def upgrade() -> None:
    op.create_table(
        'reference_lists',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('kind', **_text(30)),
        sa.Column('issuer', **_text(200)),
        sa.Column('batch', **_text(200)),
        sa.Column('title', **_text(300)),
        sa.Column('status', **_text(20)),
        sa.Column('effective_from', sa.Date(), nullable=True),
        sa.Column('expires_on', sa.Date(), nullable=True),
        sa.Column('superseded_from', sa.Date(), nullable=True),
        sa.Column('content_hash', **_text(64)),
        sa.Column('entries', sa.Integer(), nullable=False),
        sa.Column('source_name', **_text(300)),
        sa.Column('note', **_text(2000)),
        sa.Column('created_by', **_text(200)),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('submitted_by', **_text(200, True)),
        sa.Column('submitted_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('decided_by', **_text(200, True)),
        sa.Column('decided_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('decision_note', **_text(2000, True)),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reference_lists')),
    )
    op.create_index('ix_reference_lists_series', 'reference_lists', ['kind', 'issuer', 'batch'])
    op.create_index(op.f('ix_reference_lists_kind'), 'reference_lists', ['kind'])
    op.create_index(op.f('ix_reference_lists_status'), 'reference_lists', ['status'])
    op.create_index(op.f('ix_reference_lists_content_hash'), 'reference_lists', ['content_hash'])
    op.create_table(
        'reference_entries',
        sa.Column('list_id', sa.Uuid(), nullable=False),
        sa.Column('uscc', **_text(18)),
        sa.Column('name', **_text(200)),
        sa.Column('certificate_no', **_text(100, True)),
        sa.Column('valid_from', sa.Date(), nullable=True),
        sa.Column('valid_to', sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ['list_id'], ['reference_lists.id'], name=op.f('fk_reference_entries_list_id_reference_lists')
        ),
        sa.PrimaryKeyConstraint('list_id', 'uscc', name=op.f('pk_reference_entries')),
    )
    op.create_index('ix_reference_entries_uscc', 'reference_entries', ['uscc'])


def downgrade() -> None:
    op.drop_index('ix_reference_entries_uscc', table_name='reference_entries')
    op.drop_table('reference_entries')
    op.drop_index(op.f('ix_reference_lists_content_hash'), table_name='reference_lists')
    op.drop_index(op.f('ix_reference_lists_status'), table_name='reference_lists')
    op.drop_index(op.f('ix_reference_lists_kind'), table_name='reference_lists')
    op.drop_index('ix_reference_lists_series', table_name='reference_lists')
    op.drop_table('reference_lists')
