"""The full-text search index, and its backfill from the entries already stored.

SQLite: `entry_search`, an FTS5 table over space-separated tokens (`unicode61`, no
diacritic folding: the tokens are folded already), and `entry_search_keys`. PostgreSQL:
`entry_search` with a GIN-indexed tsvector and a btree on the sort key. The design is
explained in `aggregator/search/index.py`.

The backfill goes through `reindex_entries`, the function the store calls at run time, so
that old and new entries are indexed the same way.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TSVECTOR

from aggregator.store.search_index import reindex_entries

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

_BACKFILL_BATCH = 5000


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE entry_search USING fts5("
            "title, body, tokenize = 'unicode61 remove_diacritics 0')"
        )
        op.create_table(
            "entry_search_keys",
            sa.Column("entry_id", sa.Integer(), nullable=False),
            sa.Column("sort_key", sa.BigInteger(), nullable=False),
            sa.PrimaryKeyConstraint("entry_id", name="pk_entry_search_keys"),
        )
    else:
        op.create_table(
            "entry_search",
            sa.Column("entry_id", sa.Integer(), nullable=False),
            sa.Column("sort_key", sa.BigInteger(), nullable=False),
            sa.Column("document", TSVECTOR(), nullable=False),
            sa.PrimaryKeyConstraint("entry_id", name="pk_entry_search"),
        )
        op.create_index("ix_entry_search_sort_key", "entry_search", ["sort_key"], unique=True)
        op.create_index(
            "ix_entry_search_document", "entry_search", ["document"], postgresql_using="gin"
        )
    _backfill()


def _backfill() -> None:
    connection = op.get_bind()
    entries = sa.table("entries", sa.column("id", sa.Integer()))
    after = 0
    while True:
        ids = connection.scalars(
            sa.select(entries.c.id)
            .where(entries.c.id > after)
            .order_by(entries.c.id)
            .limit(_BACKFILL_BATCH)
        ).all()
        if not ids:
            return
        reindex_entries(connection, ids)
        after = ids[-1]


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.drop_table("entry_search_keys")
    op.execute("DROP TABLE entry_search")
