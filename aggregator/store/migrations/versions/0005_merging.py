"""Near-duplicate merging: report fingerprints, the band index, staff overrides, the audit log.

Reports stored before this migration are fingerprinted and indexed by 0006, which
replaces this band index with a smaller one.

Revision ID: 0005
Revises: 0004
Create Date: 2025-01-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

SLUG = sa.String(200)
UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("reports", sa.Column("fingerprint", sa.LargeBinary()))
    op.create_table(
        "merge_bands",
        sa.Column("band_key", sa.String(16), nullable=False),
        sa.Column("published", UTC_DATETIME, nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("band_key", "published", "report_id", name="pk_merge_bands"),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name="fk_merge_bands_report_id_reports",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_merge_bands_report_id", "merge_bands", ["report_id"])
    op.create_table(
        "merge_overrides",
        sa.Column("source_id", SLUG, nullable=False),
        sa.Column("identity", sa.Text(), nullable=False),
        sa.Column("other_source_id", SLUG, nullable=False),
        sa.Column("other_identity", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint(
            "source_id", "identity", "other_source_id", "other_identity", name="pk_merge_overrides"
        ),
    )
    op.create_table(
        "staff_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.Column("actor", SLUG, nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("entry_uid", sa.String(36), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_staff_actions"),
    )
    op.create_index("ix_staff_actions_at", "staff_actions", ["at"])


def downgrade() -> None:
    op.drop_index("ix_staff_actions_at", table_name="staff_actions")
    op.drop_table("staff_actions")
    op.drop_table("merge_overrides")
    op.drop_index("ix_merge_bands_report_id", table_name="merge_bands")
    op.drop_table("merge_bands")
    op.drop_column("reports", "fingerprint")
