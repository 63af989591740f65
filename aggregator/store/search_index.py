"""The search index: its tables on each backend, and keeping it in step with `entries`.

Why this design (both backends index the same tokens, from `aggregator.search.terms`):
- SQLite FTS5's `trigram` tokenizer cannot match a query under three characters, and its
  default `unicode61` treats a run of Chinese as a single token, so "高雄" would not find
  "高雄市政府". PostgreSQL's `pg_trgm` needs three characters to use its index, and its
  text-search parsers do not segment Chinese either.
- So the index holds one token per CJK character (Latin words and numbers whole), and a
  Chinese term is a phrase of consecutive characters: FTS5 `"高 雄"` over a `unicode61`
  table, PostgreSQL `'高' <-> '雄'` over a GIN-indexed tsvector. One- and two-character
  queries match exactly, and both engines rank (bm25, ts_rank) with the title weighted.
- On PostgreSQL the tsvector is built here as a literal (lexemes with positions, title
  weight A) rather than by `to_tsvector`, whose parser and locale would split and drop
  characters differently from SQLite; the same goes for the tsquery in `sql.py`.
- The body is `aggregator.text.story.entry_text` of the entry and every report merged into
  it: a name that only a rewrite mentions finds the story, a 相關新聞 list never does.
- Rows are keyed by a sort key that orders them newest first, `published` seconds then the
  entry id (`sort_key`). FTS5 walks its index in rowid order, so "newest matches first"
  stops after one page instead of sorting every match of a common character; PostgreSQL
  gets the same from a btree on the key.

SQLite: `entry_search`, an FTS5 table (title, body) whose rowid is the sort key, and
`entry_search_keys` (entry id → the sort key its row has now), so that an entry whose date
moved can find its old row. PostgreSQL: `entry_search` (entry id, sort key, tsvector).
`reindex_entries` (documents made here from the stored rows) and `index_entries` (a poll's
new entries, documented by the poller off the writer thread) are the only writers: call
them in the transaction that changed entries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Integer,
    MetaData,
    Table,
    cast,
    delete,
    insert,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR

from aggregator.models import IndexDocument
from aggregator.search.document import index_document
from aggregator.store.schema import entries, reports

_ID_BITS = 31
ENTRY_ID_MASK = (1 << _ID_BITS) - 1
_LATEST_SECOND = (1 << 32) - 1  # sort keys stay below 2**63
# PostgreSQL keeps at most 256 positions per lexeme, so in a text where one character occurs
# more often, PostgreSQL misses phrases at its later occurrences (texts are cut to its
# 16383 positions in `aggregator.search.document`).
_MAX_POSITIONS_PER_LEXEME = 256
_BATCH = 500

FTS_TABLE = "entry_search"
search_metadata = MetaData()
# SQLite: which FTS5 row holds each entry.
entry_search_keys = Table(
    "entry_search_keys",
    search_metadata,
    Column("entry_id", Integer, primary_key=True),
    Column("sort_key", BigInteger, nullable=False),
)
# PostgreSQL: the index itself.
entry_search = Table(
    FTS_TABLE,
    search_metadata,
    Column("entry_id", Integer, primary_key=True),
    Column("sort_key", BigInteger, nullable=False),
    Column("document", TSVECTOR, nullable=False),
)


def sort_key_at(moment: datetime, entry_id: int = 0) -> int:
    """The sort key of an entry published at `moment`; with the default id, the lowest key
    of that second (for since/until bounds)."""
    if not 0 <= entry_id <= ENTRY_ID_MASK:
        raise ValueError(f"entry id {entry_id} does not fit the search index's sort key")
    second = int(moment.astimezone(UTC).timestamp())
    return (min(max(second, 0), _LATEST_SECOND) << _ID_BITS) | entry_id


def entry_id_of(sort_key: int) -> int:
    return sort_key & ENTRY_ID_MASK


def reindex_entries(connection: Connection, entry_ids: Iterable[int]) -> None:
    """Make the index agree with `entries` for these ids: index their current title, date,
    and the clean text of their content and of each of their reports; drop the rows of ids
    that are no longer in `entries`."""
    ids = sorted(set(entry_ids))
    for start in range(0, len(ids), _BATCH):
        chunk = ids[start : start + _BATCH]
        rows = connection.execute(
            select(entries.c.id, entries.c.title, entries.c.content, entries.c.published).where(
                entries.c.id.in_(chunk)
            )
        ).all()
        texts: dict[int, list[str]] = defaultdict(list)
        for report in connection.execute(
            select(reports.c.entry_id, reports.c.content, reports.c.summary)
            .where(reports.c.entry_id.in_(chunk))
            .order_by(reports.c.id)
        ):
            texts[report.entry_id].append(report.content or report.summary)
        _replace_rows(
            connection,
            chunk,
            [
                (
                    row.id,
                    sort_key_at(row.published, row.id),
                    index_document(row.title, [row.content, *texts[row.id]]),
                )
                for row in rows
            ],
        )


def index_entries(
    connection: Connection, documents: Sequence[tuple[int, datetime, IndexDocument]]
) -> None:
    """Index entries whose documents are already made (entry id, published, document): the
    new entries of a poll, documented in the poller's parse processes."""
    for start in range(0, len(documents), _BATCH):
        chunk = documents[start : start + _BATCH]
        _replace_rows(
            connection,
            [entry_id for entry_id, _, _ in chunk],
            [
                (entry_id, sort_key_at(published, entry_id), document)
                for entry_id, published, document in chunk
            ],
        )


_Document = tuple[int, int, IndexDocument]  # entry id, sort key, document


def _replace_rows(
    connection: Connection, entry_ids: Sequence[int], documents: Sequence[_Document]
) -> None:
    if connection.dialect.name == "sqlite":
        _replace_sqlite_rows(connection, entry_ids, documents)
    else:
        _replace_postgresql_rows(connection, entry_ids, documents)


def _replace_sqlite_rows(
    connection: Connection, entry_ids: Sequence[int], documents: Sequence[_Document]
) -> None:
    old_keys = connection.scalars(
        select(entry_search_keys.c.sort_key).where(entry_search_keys.c.entry_id.in_(entry_ids))
    ).all()
    if old_keys:
        connection.execute(
            text(f"DELETE FROM {FTS_TABLE} WHERE rowid = :key"),
            [{"key": key} for key in old_keys],
        )
        connection.execute(
            delete(entry_search_keys).where(entry_search_keys.c.entry_id.in_(entry_ids))
        )
    if documents:
        connection.execute(
            text(f"INSERT INTO {FTS_TABLE} (rowid, title, body) VALUES (:key, :title, :body)"),
            [
                {"key": key, "title": document.title, "body": document.body}
                for _, key, document in documents
            ],
        )
        connection.execute(
            insert(entry_search_keys),
            [{"entry_id": entry_id, "sort_key": key} for entry_id, key, _ in documents],
        )


def _replace_postgresql_rows(
    connection: Connection, entry_ids: Sequence[int], documents: Sequence[_Document]
) -> None:
    connection.execute(delete(entry_search).where(entry_search.c.entry_id.in_(entry_ids)))
    if documents:
        connection.execute(
            insert(entry_search).values(document=cast(text(":literal"), TSVECTOR)),
            [
                {"entry_id": entry_id, "sort_key": key, "literal": tsvector_literal(document)}
                for entry_id, key, document in documents
            ],
        )


def tsvector_literal(document: IndexDocument) -> str:
    """A tsvector in PostgreSQL's input syntax: title tokens weighted A, then the body.

    The body starts two positions after the title, so no phrase spans the two.
    """
    positions: dict[str, list[str]] = defaultdict(list)
    title_tokens = document.title.split()
    for position, token in enumerate(title_tokens, start=1):
        positions[token].append(f"{position}A")
    offset = len(title_tokens) + 2
    for position, token in enumerate(document.body.split(), start=offset):
        positions[token].append(str(position))
    return " ".join(
        f"{_quoted_lexeme(token)}:{','.join(places[:_MAX_POSITIONS_PER_LEXEME])}"
        for token, places in positions.items()
    )


def _quoted_lexeme(token: str) -> str:
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def is_search_index_table(name: str) -> bool:
    """Whether a table is part of the search index (FTS5 adds shadow tables entry_search_*),
    for comparisons of the database with `aggregator.store.schema.metadata`."""
    return name == FTS_TABLE or name.startswith(f"{FTS_TABLE}_")
