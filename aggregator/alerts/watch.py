"""Does a new entry match a watch? The search language, evaluated in memory.

A watch (`watches:` in feeds.yaml) is a saved search that alerts staff. Its query is parsed
by `aggregator.search.query.parse_query`, and an entry matches it exactly when the search
index would return the entry for that query: the same text (`text.story.entry_text` of the
entry and its reports), the same tokens (`search.terms`), each term a phrase of consecutive
tokens within the title or within the body (never across the two), with the same truncation
as the index. Evaluated here, on the few entries a poll has just added, rather than as one
SQL search per watch per poll.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aggregator.models import CandidateEntry, Watch, WatchScan
from aggregator.search.document import MAX_BODY_TOKENS, MAX_TITLE_TOKENS
from aggregator.search.query import SearchQuery, Term, parse_query
from aggregator.search.terms import token_texts
from aggregator.text.story import entry_text


@dataclass(frozen=True, slots=True)
class WatchRule:
    """A configured watch with its query parsed."""

    watch: Watch
    query: SearchQuery

    @classmethod
    def of(cls, watch: Watch) -> WatchRule:
        """Raises `QueryError` (the config check reports it) when the query does not parse."""
        return cls(watch, parse_query(watch.query))

    def matches(self, entry: CandidateEntry) -> bool:
        wanted = self.watch.categories
        if wanted and not entry.categories.intersection(wanted):
            return False
        return query_matches(self.query, entry)


def scan_matches(rules: Sequence[WatchRule], scan: WatchScan) -> dict[str, list[int]]:
    """For each watch, the ids of the scanned entries it matches, among those that
    arrived since it looks."""
    return {
        rule.watch.name: [
            entry.id
            for entry in scan.candidates
            if entry.first_seen >= scan.since[rule.watch.name] and rule.matches(entry)
        ]
        for rule in rules
    }


class _Haystack:
    """An entry's title tokens and body tokens, as the index holds them."""

    def __init__(self, entry: CandidateEntry) -> None:
        title = token_texts(entry.title)[:MAX_TITLE_TOKENS]
        body = token_texts(entry_text(entry.contents))[:MAX_BODY_TOKENS]
        self._fields = (title, body)

    def has(self, term: Term) -> bool:
        return any(next(term.starts(field), None) is not None for field in self._fields)


def query_matches(query: SearchQuery, entry: CandidateEntry) -> bool:
    """Whether the search index would return `entry` for `query`."""
    if query.sources and not entry.sources.intersection(query.sources):
        return False
    if query.categories and not entry.categories.intersection(query.categories):
        return False
    if query.since is not None and entry.published < query.since:
        return False
    if query.until is not None and entry.published >= query.until:
        return False
    haystack = _Haystack(entry)
    return all(any(haystack.has(term) for term in group) for group in query.all_of) and not any(
        haystack.has(term) for term in query.none_of
    )
