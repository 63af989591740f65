"""One outbox for webhooks and WebSub pings: each message says its content type.

Messages queued before this revision are webhooks, whose bodies are JSON.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column(
        "notifications",
        sa.Column(
            "content_type",
            sa.String(100),
            nullable=False,
            server_default="application/json; charset=utf-8",
        ),
    )


def downgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("content_type")
