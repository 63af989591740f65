"""Query parameters shared by the pages and the API, checked before any store read.

A bad value raises `InvalidParameter`, which the error handlers turn into a 400 or 404
page or JSON body that says what was wrong.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

from werkzeug.datastructures import LanguageAccept, MultiDict
from werkzeug.exceptions import HTTPException

from aggregator.models import Config, EntryPage, EntryQuery
from aggregator.search.query import QueryError, SearchQuery, parse_query
from aggregator.store import Store
from aggregator.store.search_sql import Order
from aggregator.web.i18n import Language, choose_language
from aggregator.web.refused import Refused
from aggregator.web.responsecache import valid_while_in_force
from aggregator.web.state import current_state

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment
    from flask import Flask

Theme = Literal["light", "dark", "auto"]
THEMES: tuple[Theme, ...] = ("light", "dark", "auto")
ORDERS: tuple[Order, ...] = ("newest", "relevance")


# Each page's own query parameters. Any other is dropped before the response cache and
# Flask see the request, so made-up ones neither make cache entries nor reach url_for.
# A page not listed here keeps only `lang`.
PAGE_PARAMETERS: Mapping[str, frozenset[str]] = {
    "reader.river": frozenset({"category", "source", "q", "order", "cursor", "lang"}),
    "reader.embed": frozenset({"limit", "theme", "lang"}),
    "reader.embed_builder": frozenset({"category", "limit", "theme", "embed_lang", "lang"}),
    "api.entries": frozenset({"category", "source", "q", "order", "cursor", "limit"}),
    "feeds.feed": frozenset({"q", "limit"}),
    "feeds.source_feed": frozenset({"q", "limit"}),
    "feeds.watch_feed": frozenset({"limit"}),
    "auth.sign_in": frozenset({"next", "lang"}),
    "staff.source": frozenset({"queued", "lang"}),
    "staff_entries.merge_search": frozenset({"find", "lang"}),
}
_ANY_PAGE_PARAMETERS = frozenset({"lang"})


def page_parameters(endpoint: str | None) -> frozenset[str]:
    """The query parameters the page at `endpoint` reads."""
    return PAGE_PARAMETERS.get(endpoint or "", _ANY_PAGE_PARAMETERS)


def known_query(endpoint: str | None, pairs: Iterable[tuple[str, str]]) -> str:
    """The query string of `pairs` with only the page's own parameters, the first value of
    each, in name order: requests that ask for one thing are one query string."""
    known = page_parameters(endpoint)
    chosen: dict[str, str] = {}
    for name, value in pairs:
        if name in known and value and name not in chosen:
            chosen[name] = value
    return urlencode(sorted(chosen.items()))


def known_environ(app: Flask, environ: WSGIEnvironment) -> WSGIEnvironment:
    """`environ` with its query string rewritten to `known_query` of the page it asks for."""
    raw = environ.get("QUERY_STRING", "")
    if not raw:
        return environ
    try:
        endpoint, _ = app.url_map.bind_to_environ(environ).match()
    except HTTPException:  # no such page, or a redirect: no page parameters to keep
        endpoint = None
    pairs = parse_qsl(raw, keep_blank_values=True, errors="replace")
    return {**environ, "QUERY_STRING": known_query(endpoint, pairs)}


class InvalidParameter(Refused):
    """A query parameter the user can fix; `message` is an i18n key, `values` fill it in."""

    def __init__(self, status: Literal[400, 404], message: str, **values: object) -> None:
        super().__init__(status, message, **values)


def _given(args: MultiDict[str, str], name: str) -> str | None:
    # An empty value is what a GET form sends for "all": treat it as absent.
    return args.get(name) or None


def category_filter(args: MultiDict[str, str], config: Config) -> str | None:
    category = _given(args, "category")
    if category is not None:
        require_category(category, config)
    return category


def require_category(category: str, config: Config) -> None:
    if category not in config.categories:
        raise InvalidParameter(404, "error.unknown_category", value=category)


def source_filter(args: MultiDict[str, str], config: Config) -> str | None:
    source = _given(args, "source")
    if source is not None and source not in {known.id for known in config.sources}:
        raise InvalidParameter(404, "error.unknown_source", value=source)
    return source


def limit(args: MultiDict[str, str], *, default: int, maximum: int) -> int:
    given = _given(args, "limit")
    if given is None:
        return default
    if not given.isascii() or not given.isdigit() or not 1 <= int(given) <= maximum:
        raise InvalidParameter(400, "error.bad_limit", value=given, maximum=maximum)
    return int(given)


def embed_language(args: MultiDict[str, str]) -> Language | None:
    """The language chosen for an embed on `/embed` (`embed_lang`); None: the visitor's."""
    given = _given(args, "embed_lang")
    if given is None:
        return None
    try:
        return choose_language(given, LanguageAccept())
    except ValueError as error:
        raise InvalidParameter(400, "error.bad_language", value=given) from error


def theme(args: MultiDict[str, str]) -> Theme:
    """An embed's theme: light unless the host page asks for dark, or for `auto` (the
    visitor's system setting, which may not match a light host page)."""
    given = _given(args, "theme")
    if given is None:
        return "light"
    for known in THEMES:
        if given == known:
            return known
    raise InvalidParameter(400, "error.bad_theme", value=given)


def river_query(args: MultiDict[str, str], config: Config, *, page_size: int) -> EntryQuery:
    """The filters and cursor of a river-of-news request (`/`, `/api/entries`)."""
    return EntryQuery(
        category=category_filter(args, config),
        source=source_filter(args, config),
        limit=page_size,
        cursor=_given(args, "cursor"),
    )


@dataclass(frozen=True, slots=True)
class RiverRequest:
    """What a river-of-news request (`/`, `/api/entries`) asks for."""

    query: EntryQuery
    search: SearchQuery | None
    order: Order

    def page(self, store: Store) -> EntryPage:
        return matching_page(store, self.query, self.search, self.order)


def river_request(args: MultiDict[str, str], config: Config, *, page_size: int) -> RiverRequest:
    """The filters, cursor, search and order of a river-of-news request."""
    return RiverRequest(
        river_query(args, config, page_size=page_size), search_filter(args, config), order(args)
    )


def river_page(store: Store, query: EntryQuery) -> EntryPage:
    """A page of the river as of the app's clock (alerts expired by then left out); the
    answer showing it holds until its first alert expires."""
    try:
        page = store.entries(_as_of_now(query))
    except ValueError as error:  # the store's word for a cursor it did not issue
        raise InvalidParameter(400, "error.bad_cursor") from error
    valid_while_in_force(page.entries)
    return page


def _as_of_now(query: EntryQuery) -> EntryQuery:
    return query if query.now is not None else replace(query, now=current_state().clock())


# --- search --------------------------------------------------------------------


def search_text(args: MultiDict[str, str]) -> str | None:
    """`?q=` with its whitespace collapsed: queries that differ only in spacing are one
    query (one cached feed); a blank search box is no search."""
    return " ".join(args.get("q", "").split()) or None


def search_filter(args: MultiDict[str, str], config: Config) -> SearchQuery | None:
    """The parsed `?q=`, its `since:`/`until:` days in the site's time zone."""
    text = search_text(args)
    if text is None:
        return None
    try:
        return parse_query(text, zone=ZoneInfo(config.settings.timezone))
    except QueryError as error:
        raise InvalidParameter(400, "error.bad_search", reason=str(error)) from error


def order(args: MultiDict[str, str]) -> Order:
    """`?order=`: newest first unless relevance is asked for (it matters only with `?q=`)."""
    given = _given(args, "order")
    if given is None:
        return "newest"
    for known in ORDERS:
        if given == known:
            return known
    raise InvalidParameter(400, "error.bad_order", value=given)


def matching_page(
    store: Store, query: EntryQuery, search: SearchQuery | None, order: Order
) -> EntryPage:
    """The page of a river-of-news request, narrowed to `search` when there is one (then
    paged by the search's own cursor, in `order`)."""
    if search is None:
        return river_page(store, query)
    try:
        page = store.search(search, _as_of_now(query), order)
    except QueryError as error:  # a cursor it did not give, or out of time: both in words
        raise InvalidParameter(400, "error.bad_search", reason=str(error)) from error
    valid_while_in_force(page.entries)
    return page
