"""Watches, webhook alerts, source silence and metrics counters.

`watch_matches` and `watch_scans` (which entries fired which watch, and how far each watch
has looked), `notifications` (the webhook outbox), `silence_episodes`, `metric_counters`,
and two indexes: reports by source and first-seen time (cadence, charts), entries by
first-seen time (the watch scan).

Revision ID: 0004
Revises: 0003
Create Date: 2025-01-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

SLUG = sa.String(200)
UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "watch_matches",
        sa.Column("watch", SLUG, nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("matched_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("watch", "entry_id", name="pk_watch_matches"),
    )
    op.create_index("ix_watch_matches_watch_matched_at", "watch_matches", ["watch", "matched_at"])
    op.create_table(
        "watch_scans",
        sa.Column("watch", SLUG, nullable=False),
        sa.Column("active_since", UTC_DATETIME, nullable=False),
        sa.Column("scanned_until", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("watch", name="pk_watch_scans"),
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(400), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt", UTC_DATETIME),
        sa.Column("delivered_at", UTC_DATETIME),
        sa.Column("last_error", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_notifications"),
        sa.UniqueConstraint("dedupe_key", name="uq_notifications_dedupe_key"),
    )
    op.create_index("ix_notifications_next_attempt", "notifications", ["next_attempt"])
    op.create_table(
        "silence_episodes",
        sa.Column("source_id", SLUG, nullable=False),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("since", UTC_DATETIME),
        sa.Column("flagged_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("source_id", name="pk_silence_episodes"),
    )
    op.create_table(
        "metric_counters",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", "label", name="pk_metric_counters"),
    )
    op.create_index("ix_reports_source_id_first_seen", "reports", ["source_id", "first_seen"])
    op.create_index("ix_entries_first_seen", "entries", ["first_seen"])


def downgrade() -> None:
    op.drop_index("ix_entries_first_seen", "entries")
    op.drop_index("ix_reports_source_id_first_seen", "reports")
    for table in ("metric_counters", "silence_episodes", "notifications", "watch_scans"):
        op.drop_table(table)
    op.drop_index("ix_watch_matches_watch_matched_at", "watch_matches")
    op.drop_table("watch_matches")
