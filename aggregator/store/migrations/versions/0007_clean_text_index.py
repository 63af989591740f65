"""Rebuild the search index with the one text model: clean text of every report, true variants.

The index now holds `aggregator.text.story.entry_text` of each entry and all its reports
(no related-news lists, bylines or contact lines; a rewrite's words included) and folds only
true variants, so 颱 and 臺 are different tokens. Rows indexed before hold the old tokens
and would answer the new queries wrongly, so every entry is indexed again. No table
changes. Like 0006, the index is derived data rebuilt by the function the store runs at run
time: it must agree with the queries of the code that reads it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from aggregator.store.search_index import reindex_entries

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None

_BATCH = 5000


def upgrade() -> None:
    connection = op.get_bind()
    entries = sa.table("entries", sa.column("id", sa.Integer()))
    after = 0
    while ids := connection.scalars(
        sa.select(entries.c.id).where(entries.c.id > after).order_by(entries.c.id).limit(_BATCH)
    ).all():
        reindex_entries(connection, ids)
        after = ids[-1]


def downgrade() -> None:
    # No table changed. The old tokens (Traditional folded to Simplified) cannot be made
    # here, by code that no longer has that fold: after a downgrade, the old code finds
    # what both folds share (ASCII, variants, characters Simplified leaves as they are) and
    # misses a Traditional character Simplified writes differently, until entries change.
    pass
