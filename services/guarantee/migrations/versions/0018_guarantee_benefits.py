"""The benefits each guarantee was issued on, verified by a list

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 01:20:00

Issue 18: a firm dropped from the list whose benefit (专精特新's cap, …) its guarantee was
issued on is flagged while the guarantee is in force. Guarantees issued before are filled
in from their assessments' traces.
"""
import json
import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The kinds of list that earn a benefit, by the flag they verify (facts/kinds.py).
POSITIVE = {
    "specialized_new": "specialized_new",
    "little_giant": "little_giant",
    "high_tech": "high_tech",
    "tech_sme": "tech_sme",
}


def upgrade() -> None:
    benefits = op.create_table(
        "guarantee_benefits",
        sa.Column("guarantee_id", sa.Uuid(), sa.ForeignKey("guarantees.id"), primary_key=True),
        sa.Column("kind", sa.String(length=30), primary_key=True),
        sa.Column("enterprise_uscc", sa.String(length=18), nullable=False),
        sa.Column("list_id", sa.Uuid(), sa.ForeignKey("reference_lists.id"), nullable=False),
    )
    op.create_index(
        "ix_guarantee_benefits_kind_firm", "guarantee_benefits", ["kind", "enterprise_uscc"]
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT g.id, g.enterprise_uscc, a.trace FROM guarantees g "
            "JOIN assessments a ON a.id = g.assessment_id"
        )
    )
    found = []
    for guarantee_id, uscc, trace in rows:
        trace = json.loads(trace) if isinstance(trace, str) else trace or {}
        for fact in trace.get("facts") or []:
            source = fact.get("source") or {}
            kind = POSITIVE.get(fact.get("flag"))
            if kind and fact.get("standing") == "verified" and source.get("list_id"):
                found.append(
                    {
                        "guarantee_id": uuid.UUID(str(guarantee_id)),
                        "kind": kind,
                        "enterprise_uscc": uscc,
                        "list_id": uuid.UUID(str(source["list_id"])),
                    }
                )
    if found:
        op.bulk_insert(benefits, found)


def downgrade() -> None:
    op.drop_index("ix_guarantee_benefits_kind_firm", table_name="guarantee_benefits")
    op.drop_table("guarantee_benefits")
