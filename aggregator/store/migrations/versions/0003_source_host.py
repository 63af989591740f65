"""Sources remember their host, so that claims can keep per-host politeness across workers.

Revision ID: 0003
Revises: 0002
Create Date: 2025-01-03
"""

from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

SLUG = sa.String(200)


def upgrade() -> None:
    op.add_column("sources", sa.Column("host", sa.String(255)))
    op.create_index("ix_sources_host_lease_until", "sources", ["host", "lease_until"])
    _backfill()


def _backfill() -> None:
    # The same rule as the store's `source_host`, frozen here: a migration must not change
    # when the store does.
    connection = op.get_bind()
    sources = sa.table("sources", sa.column("id", SLUG), sa.column("url"), sa.column("host"))
    rows = connection.execute(sa.select(sources.c.id, sources.c.url)).all()
    if rows:
        connection.execute(
            sources.update().where(sources.c.id == sa.bindparam("b_id")).values(
                host=sa.bindparam("b_host")
            ),
            [{"b_id": row.id, "b_host": (urlsplit(row.url).hostname or "")} for row in rows],
        )


def downgrade() -> None:
    op.drop_index("ix_sources_host_lease_until", table_name="sources")
    op.drop_column("sources", "host")
