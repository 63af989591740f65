"""Each source's last polls, for its page; whether a report's date came with a time of day.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "poll_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.String(200), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("new_reports", sa.Integer(), nullable=False),
        sa.Column("updated_reports", sa.Integer(), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("elapsed_ms", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name="fk_poll_attempts_source_id_sources"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_poll_attempts"),
    )
    op.create_index(
        "ix_poll_attempts_source_id_attempted_at", "poll_attempts", ["source_id", "attempted_at"]
    )
    # Dates stored before this revision are taken to have had a time (as they were shown).
    op.add_column(
        "reports",
        sa.Column("published_has_time", sa.Boolean(), nullable=False, server_default=sa.true()),
    )


def downgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.drop_column("published_has_time")
    op.drop_index("ix_poll_attempts_source_id_attempted_at", "poll_attempts")
    op.drop_table("poll_attempts")
