"""Run a parsed query against the search index, on SQLite (FTS5) or PostgreSQL (tsvector).

A query compiles to the engine's own expression language with every term a phrase of
index tokens (see `search_index.py` for why): FTS5 `("颱 風" OR "地 震") AND "高 雄" NOT
"演 習"`, PostgreSQL `('颱' <-> '風' | '地' <-> '震') & '高' <-> '雄' & !('演' <-> '習')`.
A position with several spellings (a Simplified character, see `aggregator.text.fold`) is
an alternative inside the phrase on PostgreSQL, `('台' | '颱' | '檯') <-> ('风' | '風')`;
FTS5 has none, so there the term is an OR of its spellings' phrases, `("台 风" OR "台 風"
OR ...)`, which `search.query.MAX_SPELLINGS` bounds.
Tokens hold only letters and digits, but are quoted and escaped all the same.

Every search runs under a time limit (SQLite: a progress handler that aborts the
statement; PostgreSQL: `statement_timeout` inside a savepoint), so no query, however
common its characters, holds the database for long.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Select,
    bindparam,
    cast,
    exists,
    func,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.exc import OperationalError

from aggregator.search.query import QueryError, SearchQuery, Term
from aggregator.store.schema import entries, entry_categories, reports
from aggregator.store.search_index import (
    ENTRY_ID_MASK,
    FTS_TABLE,
    entry_id_of,
    entry_search,
    sort_key_at,
)

SEARCH_TIME_LIMIT_MS = 1000
MAX_LIMIT = 200
MAX_RELEVANCE_OFFSET = 1000  # relevance pages are offsets: deep ones cost a full ranking
# Ranking by relevance scores every match, and a common character matches a third of a
# million-entry store: bm25/ts_rank over all of them takes seconds. So relevance ranks only
# the newest RELEVANCE_CANDIDATES matches, found the way a newest-first search finds its
# page (walking the sort key down): ranking then costs the same whatever the query. An old
# entry that would rank high is still found by order=newest or a since:/until: filter.
RELEVANCE_CANDIDATES = 2000
TITLE_WEIGHT = 4.0  # bm25 weight of a title match against a body match on SQLite
_SQLITE_PROGRESS_STEPS = 2000  # virtual machine steps between time checks

Order = Literal["newest", "relevance"]


class SearchTooSlow(QueryError):
    """The search ran out of time; the message tells the person how to narrow it."""


@dataclass(frozen=True, slots=True)
class SearchPage:
    entry_ids: tuple[int, ...]  # `entries.id`, best first
    next_cursor: str | None


def search_entries(
    connection: Connection,
    query: SearchQuery,
    *,
    category: str | None = None,
    source: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
    order: Order = "newest",
    time_limit_ms: int = SEARCH_TIME_LIMIT_MS,
) -> SearchPage:
    """One page of the entries that match `query` (and the page's own category/source).

    Raises QueryError for a cursor of another order or not from here, SearchTooSlow when
    the search takes longer than `time_limit_ms`.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise QueryError(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
    after_key, offset = _decode_cursor(cursor, order)
    # Filters alone match no text: every indexed entry is a candidate, newest first.
    rank: ColumnElement[Any] = literal_column("0")
    if connection.dialect.name == "sqlite":
        key: ColumnElement[int] = literal_column(f"{FTS_TABLE}.rowid", BigInteger)
        statement = select(key.label("sort_key")).select_from(table(FTS_TABLE))
        if not query.filters_only:
            statement = statement.where(
                literal_column(FTS_TABLE).op("MATCH")(bindparam("match", fts5_expression(query)))
            )
            rank = func.bm25(literal_column(FTS_TABLE), TITLE_WEIGHT, 1.0)
        entry_id: ColumnElement[int] = key.op("&")(ENTRY_ID_MASK)
    else:
        key = entry_search.c.sort_key
        statement = select(key)
        if not query.filters_only:
            tsquery = cast(bindparam("tsquery", tsquery_literal(query)), TSQUERY)
            statement = statement.where(entry_search.c.document.op("@@")(tsquery))
            rank = -func.ts_rank(entry_search.c.document, tsquery)
        entry_id = entry_search.c.entry_id
    statement = _filtered(
        statement, query, key, entry_id, category, source, connection.dialect.name
    )
    if order == "newest":
        if after_key is not None:
            statement = statement.where(key < after_key)
        statement = statement.order_by(key.desc())
    else:
        candidates = (
            statement.add_columns(rank.label("rank"))
            .order_by(key.desc())
            .limit(RELEVANCE_CANDIDATES)
            .subquery("candidates")
        )
        statement = (
            select(candidates.c.sort_key)
            .order_by(candidates.c.rank, candidates.c.sort_key.desc())
            .offset(offset)
        )
    with _time_limit(connection, time_limit_ms):
        keys = connection.scalars(statement.limit(limit + 1)).all()
    shown = keys[:limit]
    next_cursor = None
    if len(keys) > limit:
        next_cursor = f"n{shown[-1]}" if order == "newest" else f"r{offset + limit}"
    return SearchPage(tuple(entry_id_of(k) for k in shown), next_cursor)


def _filtered(
    statement: Select[Any],
    query: SearchQuery,
    key: ColumnElement[int],
    entry_id: ColumnElement[int],
    category: str | None,
    source: str | None,
    dialect: str,
) -> Select[Any]:
    # The join drops index rows whose entry is gone, should the index lag behind a delete.
    statement = statement.join(entries, entries.c.id == entry_id)
    for categories in (query.categories, (category,) if category else ()):
        if categories:
            in_category = exists().where(
                entry_categories.c.category.in_(categories),
                entry_categories.c.entry_id == entry_id,
            )
            if dialect == "sqlite":
                # With the entry's date this is a primary-key lookup; without, SQLite's
                # planner scans the category's whole range for every candidate.
                in_category = in_category.where(entry_categories.c.published == entries.c.published)
            # PostgreSQL must not get the date: it takes the two equalities for independent
            # and expects one row per category, so it joins the whole category before
            # sorting (327 ms for "颱風 category:kaohsiung" at 100k entries). On entry_id
            # alone it walks the sort key newest first and probes the entry_id index (1 ms).
            statement = statement.where(in_category)
    for source_ids in (query.sources, (source,) if source else ()):
        if source_ids:
            statement = statement.where(
                exists().where(reports.c.entry_id == entry_id, reports.c.source_id.in_(source_ids))
            )
    if query.since is not None:
        statement = statement.where(key >= sort_key_at(query.since))
    if query.until is not None:
        statement = statement.where(key < sort_key_at(query.until))
    return statement


_SORT_KEY_LIMIT = 1 << 63  # sort keys are BIGINTs


def _decode_cursor(cursor: str | None, order: Order) -> tuple[int | None, int]:
    """(sort key to continue below, relevance offset) from a cursor `search_entries` gave."""
    if cursor is None:
        return None, 0
    kind = "n" if order == "newest" else "r"
    if cursor[:1] == kind and cursor[1:].isdigit() and cursor[1:].isascii():
        value = int(cursor[1:])
        if kind == "n":
            if value < _SORT_KEY_LIMIT:
                return value, 0
            raise QueryError(f"the cursor {cursor!r} is past any this search gives")
        if value <= MAX_RELEVANCE_OFFSET:
            return None, value
        raise QueryError(
            f"results by relevance go {MAX_RELEVANCE_OFFSET} deep; sort by newest to go further"
        )
    raise QueryError(f"the cursor {cursor!r} is not one this search gave for order={order}")


# --- the engines' query languages ------------------------------------------------


def fts5_expression(query: SearchQuery) -> str:
    positive = " AND ".join(
        "(" + " OR ".join(_fts5_phrase(term) for term in group) + ")" for group in query.all_of
    )
    if not query.none_of:
        return positive
    return f"({positive}) NOT ({' OR '.join(_fts5_phrase(term) for term in query.none_of)})"


def _fts5_phrase(term: Term) -> str:
    phrases = [
        '"' + " ".join(spelling).replace('"', '""') + '"'
        for spelling in itertools.product(*term.tokens)
    ]
    return phrases[0] if len(phrases) == 1 else "(" + " OR ".join(phrases) + ")"


def tsquery_literal(query: SearchQuery) -> str:
    groups = [
        "(" + " | ".join(_tsquery_phrase(term) for term in group) + ")" for group in query.all_of
    ]
    groups += [f"!({_tsquery_phrase(term)})" for term in query.none_of]
    return " & ".join(groups)


def _tsquery_phrase(term: Term) -> str:
    return " <-> ".join(_tsquery_choice(choices) for choices in term.tokens)


def _tsquery_choice(choices: tuple[str, ...]) -> str:
    lexemes = ["'" + token.replace("\\", "\\\\").replace("'", "''") + "'" for token in choices]
    return lexemes[0] if len(lexemes) == 1 else "(" + " | ".join(lexemes) + ")"


# --- the time limit ----------------------------------------------------------------


@contextmanager
def _time_limit(connection: Connection, milliseconds: int) -> Iterator[None]:
    too_slow = SearchTooSlow(
        f"the search took longer than {milliseconds} ms; add words or filters to narrow it"
    )
    try:
        if connection.dialect.name == "sqlite":
            with _sqlite_deadline(connection, milliseconds):
                yield
        else:
            with connection.begin_nested():
                previous = connection.scalar(text("SELECT current_setting('statement_timeout')"))
                connection.execute(
                    text("SELECT set_config('statement_timeout', :value, true)"),
                    {"value": f"{milliseconds}ms"},
                )
                yield
                connection.execute(
                    text("SELECT set_config('statement_timeout', :value, true)"),
                    {"value": previous},
                )
    except OperationalError as error:
        if _is_timeout(error):
            raise too_slow from error
        raise


@contextmanager
def _sqlite_deadline(connection: Connection, milliseconds: int) -> Iterator[None]:
    driver_connection: Any = connection.connection.driver_connection
    deadline = time.monotonic() + milliseconds / 1000

    def past_deadline() -> bool:
        return time.monotonic() > deadline

    driver_connection.set_progress_handler(past_deadline, _SQLITE_PROGRESS_STEPS)
    try:
        yield
    finally:
        driver_connection.set_progress_handler(None, 0)


def _is_timeout(error: OperationalError) -> bool:
    # SQLite: "interrupted" when the progress handler aborts; PostgreSQL: SQLSTATE 57014.
    return "interrupted" in str(error.orig) or getattr(error.orig, "sqlstate", None) == "57014"
