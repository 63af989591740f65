"""The search query language: what people type into the search box, parsed and bounded.

    颱風 高雄            both must match (each Chinese run is a phrase of its characters)
    "停班 停課"          an exact phrase
    颱風 OR 地震         either
    -演習  -"防災 演習"  must not match
    source:kcg-news  category:kaohsiung  since:2025-03-01  until:2025-03-31

A Simplified character matches any Traditional character it may stand for (`台风` finds
颱風, `台北` finds 臺北), a Traditional one only itself and its variants (`颱` never finds
臺北); a term is refused when its spellings would be more than `MAX_SPELLINGS` phrases.

Mixed text works as typed: `GTC 2025` is two words, `GTC2025` one, `高雄MRT` a phrase of
three tokens. `OR` must be upper case; a lower-case "or" is a word. A repeated `source:` or
`category:` filter means any of them.

Bounded so that one request cannot load the server: at most `MAX_QUERY_LENGTH` characters
and `MAX_TERMS` terms, and at least one term that is not excluded (an exclusion alone
would scan everything) unless the query is filters alone (`source:kcg`, `since:...`): that
lists the filtered entries newest first, the way the river does. Anything else is a
`QueryError` saying what is wrong and where.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from aggregator.search.terms import query_tokens

MAX_QUERY_LENGTH = 200
MAX_TERMS = 10
# FTS5 has no alternatives inside a phrase, so a term becomes an OR of every spelling.
MAX_SPELLINGS = 64

_FILTER = re.compile(r"(source|category|since|until):(.*)", re.DOTALL)
_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


class QueryError(ValueError):
    """The query cannot be run; the message says why, in words for the person who typed it."""


@dataclass(frozen=True, slots=True)
class Term:
    text: str  # as typed, without quotes or minus sign
    # consecutive positions, each the folded index tokens any of which matches there
    tokens: tuple[tuple[str, ...], ...]

    @property
    def spellings(self) -> int:
        """How many token sequences the term matches."""
        return math.prod(len(choices) for choices in self.tokens)

    def starts(self, words: Sequence[str]) -> Iterator[int]:
        """Where in the index tokens `words` the term occurs."""
        size, leading = len(self.tokens), self.tokens[0]
        for first in range(len(words) - size + 1):
            if words[first] in leading and all(
                words[first + i] in choices for i, choices in enumerate(self.tokens)
            ):
                yield first


@dataclass(frozen=True, slots=True)
class SearchQuery:
    text: str
    all_of: tuple[tuple[Term, ...], ...]  # every group must match; a group: any of its terms
    none_of: tuple[Term, ...] = ()
    sources: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    since: datetime | None = None  # inclusive, UTC
    until: datetime | None = None  # exclusive, UTC: the end of the until: day

    @property
    def filters_only(self) -> bool:
        """Only `source:`/`category:`/`since:`/`until:`: a filtered list, nothing to match."""
        return not self.all_of

    @property
    def terms(self) -> tuple[Term, ...]:
        """The terms that must match (some of them, for OR): what highlighting marks."""
        return tuple(term for group in self.all_of for term in group)


@dataclass(frozen=True, slots=True)
class _Word:
    text: str
    column: int  # 1-based, for messages
    quoted: bool
    excluded: bool


def parse_query(text: str, *, zone: tzinfo = UTC) -> SearchQuery:
    """Parse a search box query. `zone` says which day `since:`/`until:` dates mean."""
    if len(text) > MAX_QUERY_LENGTH:
        raise QueryError(
            f"the query is {len(text)} characters long; the limit is {MAX_QUERY_LENGTH}"
        )
    groups: list[list[Term]] = []
    excluded: list[Term] = []
    sources: list[str] = []
    categories: list[str] = []
    dates: dict[str, datetime] = {}
    pending_or: _Word | None = None
    for word in _words(text):
        if not (word.quoted or word.excluded) and word.text == "OR":
            if not groups or pending_or is not None:
                raise QueryError(f"OR at column {word.column} needs a term before it")
            pending_or = word
            continue
        filter_match = None if word.quoted or word.excluded else _FILTER.fullmatch(word.text)
        if filter_match is not None:
            _check_no_or(pending_or, f"a {filter_match[1]}: filter")
            name, value = filter_match[1], filter_match[2]
            if name in ("since", "until"):
                if name in dates:
                    raise QueryError(f"{name}: is given twice (column {word.column})")
                dates[name] = _day_start(name, value, word.column, zone)
            else:
                _check_slug(name, value, word.column)
                (sources if name == "source" else categories).append(value)
            continue
        term = Term(word.text, query_tokens(word.text))
        if not term.tokens:
            continue  # only punctuation or symbols: nothing the index could match
        if term.spellings > MAX_SPELLINGS:
            raise QueryError(
                f"{word.text!r} at column {word.column} can be written {term.spellings} ways in"
                f" Traditional characters; the limit is {MAX_SPELLINGS}: split it into shorter"
                " words or type it in Traditional characters"
            )
        if word.excluded:
            _check_no_or(pending_or, "an excluded term")
            excluded.append(term)
        elif pending_or is not None:
            groups[-1].append(term)
            pending_or = None
        else:
            groups.append([term])
    if pending_or is not None:
        raise QueryError(f"OR at column {pending_or.column} needs a term after it")
    term_count = sum(len(group) for group in groups) + len(excluded)
    if term_count > MAX_TERMS:
        raise QueryError(f"the query has {term_count} terms; the limit is {MAX_TERMS}")
    if not groups and (excluded or not (sources or categories or dates)):
        raise QueryError(
            "the query has no word to search for"
            + (" besides exclusions" if excluded else "")
            + (" (filters alone do not make a search)" if sources or categories or dates else "")
        )
    until = dates.get("until")
    return SearchQuery(
        text=text,
        all_of=tuple(tuple(group) for group in groups),
        none_of=tuple(excluded),
        sources=tuple(sources),
        categories=tuple(categories),
        since=dates.get("since"),
        until=None if until is None else until + timedelta(days=1),
    )


def _words(text: str) -> list[_Word]:
    """Split on whitespace; a double-quoted phrase is one word; a leading "-" excludes."""
    words: list[_Word] = []
    position = 0
    while position < len(text):
        if text[position].isspace():
            position += 1
            continue
        start = position
        excluded = text[position] == "-" and position + 1 < len(text)
        if excluded:
            position += 1
        if text[position] == '"':
            closing = text.find('"', position + 1)
            if closing == -1:
                raise QueryError(f"the quote at column {position + 1} is never closed")
            words.append(_Word(text[position + 1 : closing], start + 1, True, excluded))
            position = closing + 1
        else:
            end = position
            while end < len(text) and not text[end].isspace() and text[end] != '"':
                end += 1
            words.append(_Word(text[position:end], start + 1, False, excluded))
            position = end
    return words


def _check_no_or(pending_or: _Word | None, what: str) -> None:
    if pending_or is not None:
        raise QueryError(f"OR at column {pending_or.column} cannot be followed by {what}")


def _check_slug(name: str, value: str, column: int) -> None:
    if not _SLUG.fullmatch(value):
        raise QueryError(
            f"{name}: at column {column} needs an id such as {name}:kaohsiung, not {value!r}"
        )


def _day_start(name: str, value: str, column: int, zone: tzinfo) -> datetime:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise QueryError(
            f"{name}: at column {column} needs a date such as {name}:2025-03-01, not {value!r}"
        ) from None
    try:
        return datetime.combine(day, time(), zone).astimezone(UTC)
    except OverflowError:  # 0001-01-01 east of UTC is before the first day a date can hold
        raise QueryError(f"{name}: at column {column} is out of range: {value!r}") from None
