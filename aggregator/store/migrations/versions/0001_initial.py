"""The first tables: sources, entries, reports, entry_categories, store_meta.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

# Frozen copies of the types used then: a migration must not change when schema.py does.
UTC_DATETIME = sa.DateTime(timezone=True)
SLUG = sa.String(200)


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("id", SLUG, nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("title", sa.Text()),
        sa.Column("categories", sa.Text(), nullable=False),
        sa.Column("interval_s", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.Column("feed_title", sa.Text()),
        sa.Column("feed_link", sa.Text()),
        sa.Column("etag", sa.Text()),
        sa.Column("last_modified", sa.Text()),
        sa.Column("body_hash", sa.String(64)),
        sa.Column("last_attempt", UTC_DATETIME),
        sa.Column("last_success", UTC_DATETIME),
        sa.Column("last_error", sa.Text()),
        sa.Column("last_http_status", sa.Integer()),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("next_poll", UTC_DATETIME),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("lease_owner", SLUG),
        sa.Column("lease_until", UTC_DATETIME),
        sa.PrimaryKeyConstraint("id", name="pk_sources"),
    )
    op.create_index("ix_sources_next_poll", "sources", ["next_poll"])

    op.create_table(
        "entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(36), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("link", sa.Text()),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("published", UTC_DATETIME, nullable=False),
        sa.Column("updated", UTC_DATETIME, nullable=False),
        sa.Column("first_seen", UTC_DATETIME, nullable=False),
        sa.Column("shown_report_id", sa.Integer()),
        sa.PrimaryKeyConstraint("id", name="pk_entries"),
        sa.UniqueConstraint("uid", name="uq_entries_uid"),
    )
    op.create_index(
        "ix_entries_published_id", "entries", [sa.text("published DESC"), sa.text("id DESC")]
    )

    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("source_id", SLUG, nullable=False),
        sa.Column("identity", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("link", sa.Text()),
        sa.Column("canonical_link", sa.Text()),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(128), nullable=False),
        sa.Column("published", UTC_DATETIME, nullable=False),
        sa.Column("updated", UTC_DATETIME, nullable=False),
        sa.Column("first_seen", UTC_DATETIME, nullable=False),
        sa.Column("author", sa.Text()),
        sa.Column("merge_rule", sa.String(40), nullable=False),
        sa.Column("merge_score", sa.Float()),
        sa.PrimaryKeyConstraint("id", name="pk_reports"),
        sa.ForeignKeyConstraint(["entry_id"], ["entries.id"], name="fk_reports_entry_id_entries"),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"], name="fk_reports_source_id_sources"),
        sa.UniqueConstraint("source_id", "identity", name="uq_reports_source_id_identity"),
    )
    op.create_index("ix_reports_canonical_link", "reports", ["canonical_link"])
    op.create_index(
        "ix_reports_source_id_published_entry_id", "reports", ["source_id", "published", "entry_id"]
    )
    op.create_index("ix_reports_entry_id", "reports", ["entry_id"])

    op.create_table(
        "entry_categories",
        sa.Column("category", SLUG, nullable=False),
        sa.Column("published", UTC_DATETIME, nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("category", "published", "entry_id", name="pk_entry_categories"),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["entries.id"], name="fk_entry_categories_entry_id_entries"
        ),
    )
    op.create_index("ix_entry_categories_entry_id", "entry_categories", ["entry_id"])

    store_meta = op.create_table(
        "store_meta",
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_store_meta"),
    )
    op.bulk_insert(store_meta, [{"key": "version", "value": 0}])


def downgrade() -> None:
    for table in ("store_meta", "entry_categories", "reports", "entries", "sources"):
        op.drop_table(table)
