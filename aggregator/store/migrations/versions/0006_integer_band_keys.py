"""A smaller band index: integer band keys, no date, no rowid on SQLite.

Every new report adds some 22 rows to `merge_bands` at random places in the key order,
which was most of what merging cost a write (bench/dedup.py). The index is derived data,
so it is rebuilt: every stored report is fingerprinted again (in the fingerprint's format 2,
whose band keys are integers) by the function the store uses at run time, without its
source's learnt boilerplate, and indexed, so a new copy of an old story still finds it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from aggregator.store.merge import fingerprint_stored_reports

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.drop_index("ix_merge_bands_report_id", table_name="merge_bands")
    op.drop_table("merge_bands")
    op.create_table(
        "merge_bands",
        sa.Column("band_key", sa.BigInteger(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("band_key", "report_id", name="pk_merge_bands"),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name="fk_merge_bands_report_id_reports",
            ondelete="CASCADE",
        ),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_merge_bands_report_id", "merge_bands", ["report_id"])
    op.execute(sa.text("UPDATE reports SET fingerprint = NULL"))
    fingerprint_stored_reports(op.get_bind())


def downgrade() -> None:
    # 0005's table, empty: format 1 fingerprints are not rebuilt, so until reports are
    # fingerprinted again, new copies of stories stored before the downgrade stay apart.
    op.drop_index("ix_merge_bands_report_id", table_name="merge_bands")
    op.drop_table("merge_bands")
    op.create_table(
        "merge_bands",
        sa.Column("band_key", sa.String(16), nullable=False),
        sa.Column("published", sa.DateTime(timezone=True), nullable=False),
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
    op.execute(sa.text("UPDATE reports SET fingerprint = NULL"))
