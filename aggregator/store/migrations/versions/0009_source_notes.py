"""Sources keep the notes of their last parsed poll: what cleaning cut or could not use.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("sources", sa.Column("notes", sa.Text))


def downgrade() -> None:
    op.drop_column("sources", "notes")
