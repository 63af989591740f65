"""Reports keep who issued them (發布單位), for alerts their severity and expiry, and the
documents a followed item page links to.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("reports", sa.Column("agency", sa.Text))
    op.add_column("reports", sa.Column("severity", sa.String(100)))
    op.add_column("reports", sa.Column("expires", sa.DateTime(timezone=True)))
    op.add_column("reports", sa.Column("attachments", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.drop_column("attachments")
        batch.drop_column("expires")
        batch.drop_column("severity")
        batch.drop_column("agency")
