"""The categories a report adds to its entry beyond its source's (an alert's areas).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # Reports stored before this revision are taken to have added none (only alerts did,
    # and a join recomputing their entry's categories had already dropped them).
    op.add_column("reports", sa.Column("categories", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.drop_column("categories")
