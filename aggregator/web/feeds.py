"""The merged output feeds: `/feeds/<category>.atom`, `.rss` and `.json`, and one source's
(`/feeds/source/<id>.atom`, ...).

Repeats are answered by the response cache; every response carries validators so that
readers polling every few minutes mostly get a 304, and a short public max-age so that a
CDN in front can absorb bursts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from flask import Blueprint, Response, request, url_for

from aggregator.models import EntryQuery, StoredEntry
from aggregator.render import (
    ALL_CATEGORIES,
    FORMATS,
    FeedFormat,
    FeedMeta,
    feed_meta,
    source_feed_meta,
)
from aggregator.render.common import feed_updated
from aggregator.search.query import SearchQuery
from aggregator.store.alerts import AlertStore
from aggregator.web import params
from aggregator.web.links import site_url
from aggregator.web.responsecache import store_cached, valid_while_in_force
from aggregator.web.state import current_state

bp = Blueprint("feeds", __name__, url_prefix="/feeds")

SEARCH_TITLE = "{title} — 搜尋：{query}"
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_AGE_SECONDS = 60
XML_MEDIA_TYPES = frozenset({"application/atom+xml", "application/rss+xml"})
STYLESHEET = "feed.xsl"  # a static file: an Atom or RSS feed opened in a browser, as a page
_EXTENSIONS = ", ".join(FORMATS)


@bp.get(f"/<category>.<any({_EXTENSIONS}):extension>")
@store_cached
def feed(category: str, extension: str) -> Response:
    state = current_state()
    meta = feed_meta(state.config, category, site_url(state.config.settings))
    if meta is None:
        raise params.InvalidParameter(404, "error.unknown_category", value=category)
    return _merged_feed(meta, extension, category=None if category == ALL_CATEGORIES else category)


@bp.get(f"/source/<source_id>.<any({_EXTENSIONS}):extension>")
@store_cached
def source_feed(source_id: str, extension: str) -> Response:
    """One source's entries as a merged feed of its own."""
    state = current_state()
    meta = source_feed_meta(state.config, source_id, site_url(state.config.settings))
    if meta is None:
        raise params.InvalidParameter(404, "error.unknown_source", value=source_id)
    return _merged_feed(meta, extension, source=source_id)


def _merged_feed(
    meta: FeedMeta, extension: str, *, category: str | None = None, source: str | None = None
) -> Response:
    """The feed of `meta`: the newest entries of `category` or `source`, narrowed by `?q=`."""
    state = current_state()
    limit = params.limit(request.args, default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    search = params.search_filter(request.args, state.config)
    if search is not None:
        meta = _search_meta(meta, search)
    query = EntryQuery(category=category, source=source, limit=limit)
    entries = params.matching_page(state.store, query, search, "newest").entries
    return _response(meta, FORMATS[extension], entries)


@bp.get("/watch/<name>.atom")
@store_cached
def watch_feed(name: str) -> Response:
    """The entries that fired a watch, most recently matched first."""
    state = current_state()
    watch = next((w for w in state.config.watches if w.name == name), None)
    meta = feed_meta(state.config, ALL_CATEGORIES, site_url(state.config.settings))
    if watch is None or meta is None:
        raise params.InvalidParameter(404, "error.unknown_watch", value=name)
    limit = params.limit(request.args, default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    fmt = FORMATS["atom"]
    watch_meta = replace(
        meta, category=f"watch/{name}", title=f"{name}: {watch.query}", description=watch.query
    )
    matched = AlertStore(state.store).watch_entries(name, limit)
    valid_while_in_force(matched)
    return _response(watch_meta, fmt, matched)


def _search_meta(meta: FeedMeta, search: SearchQuery) -> FeedMeta:
    """The feed of a saved search: its own title, id and self link. No WebSub hub: the
    hub is pinged for category feeds only, so it would never announce this one."""
    title = SEARCH_TITLE.format(title=meta.title, query=search.text)
    return replace(meta, title=title, description=title, websub_hub=None, search=search.text)


def _content_type(fmt: FeedFormat) -> str:
    """The format's own type, except for a browser opening an Atom or RSS feed: browsers
    show those types as plain text, and apply the stylesheet only to generic XML."""
    if fmt.media_type in XML_MEDIA_TYPES:
        preferred = request.accept_mimetypes.best_match([fmt.media_type, "text/html"])
        if preferred == "text/html":
            return "application/xml; charset=utf-8"
    return fmt.content_type


def _response(meta: FeedMeta, fmt: FeedFormat, entries: Sequence[StoredEntry]) -> Response:
    # Same origin as the feed, or the browser refuses it: the request's own root.
    meta = replace(meta, stylesheet_url=url_for("static", filename=STYLESHEET))
    response = Response(fmt.render(meta, entries), content_type=_content_type(fmt))
    response.vary.add("Accept")
    response.last_modified = feed_updated(entries)
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE_SECONDS
    if fmt.media_type == "application/feed+json":
        # Feeds are public: let other sites' scripts read the JSON one.
        response.headers["Access-Control-Allow-Origin"] = "*"
    return response
