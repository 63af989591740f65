"""Entries joined into an older one keep their public id as an alias of it.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "entry_aliases",
        sa.Column("uid", sa.String(36), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["entries.id"],
            name="fk_entry_aliases_entry_id_entries",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("uid", name="pk_entry_aliases"),
    )
    op.create_index("ix_entry_aliases_entry_id", "entry_aliases", ["entry_id"])


def downgrade() -> None:
    op.drop_index("ix_entry_aliases_entry_id", "entry_aliases")
    op.drop_table("entry_aliases")
