"""The merged output feeds: `/feeds/<category>.atom`, `.rss` and `.json`.

Documents come from the in-process `FeedCache`; every response carries validators so that
readers polling every few minutes mostly get a 304, and a short public max-age so that a
CDN in front can absorb bursts.
"""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, Response, current_app, request
from flask.blueprints import BlueprintSetupState

from aggregator.models import EntryQuery
from aggregator.render import ALL_CATEGORIES, FORMATS, FeedFormat, FeedMeta, feed_meta
from aggregator.render.common import feed_updated
from aggregator.search.query import SearchQuery
from aggregator.store import Store
from aggregator.store.alerts import AlertStore
from aggregator.web import params
from aggregator.web.feedcache import CachedFeed, FeedCache, RenderedFeed, respond
from aggregator.web.state import current_state

bp = Blueprint("feeds", __name__, url_prefix="/feeds")

CACHE_KEY = "aggregator.feed_cache"
# Saved searches get a cache of their own: any visitor can make up new queries, and they
# must not push the category feeds that every subscriber polls out of the cache.
SEARCH_CACHE_KEY = "aggregator.search_feed_cache"
SEARCH_TITLE = "{title} — 搜尋：{query}"
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_AGE_SECONDS = 60
_EXTENSIONS = ", ".join(FORMATS)


@bp.record_once
def _attach_cache(setup: BlueprintSetupState) -> None:
    setup.app.extensions[CACHE_KEY] = FeedCache()
    setup.app.extensions[SEARCH_CACHE_KEY] = FeedCache()


def feed_cache(key: str = CACHE_KEY) -> FeedCache:
    """The feed cache (`key`: or the saved searches' one) of the app handling the request."""
    cache = current_app.extensions[key]
    if not isinstance(cache, FeedCache):
        raise RuntimeError("the feeds blueprint was not registered on this app")
    return cache


@bp.get(f"/<category>.<any({_EXTENSIONS}):extension>")
def feed(category: str, extension: str) -> Response:
    state = current_state()
    meta = feed_meta(state.config, category)
    if meta is None:
        raise params.InvalidParameter(404, "error.unknown_category", value=category)
    limit = params.limit(request.args, default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    fmt = FORMATS[extension]
    search = params.search_filter(request.args, state.config)
    cache = feed_cache()
    if search is not None:
        meta = _search_meta(meta, search)
        cache = feed_cache(SEARCH_CACHE_KEY)
    # A saved search is keyed on its query as normalised (`search_filter` collapsed spacing).
    document = cache.document(
        (category, extension, limit, search.text if search else None),
        state.store.version,
        lambda: _render(state.store, meta, fmt, limit, search),
    )
    return _response(document, fmt)


@bp.get("/watch/<name>.atom")
def watch_feed(name: str) -> Response:
    """The entries that fired a watch, most recently matched first."""
    state = current_state()
    watch = next((w for w in state.config.watches if w.name == name), None)
    meta = feed_meta(state.config, ALL_CATEGORIES)
    if watch is None or meta is None:
        raise params.InvalidParameter(404, "error.unknown_watch", value=name)
    limit = params.limit(request.args, default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    fmt = FORMATS["atom"]
    watch_meta = replace(
        meta, category=f"watch/{name}", title=f"{name}: {watch.query}", description=watch.query
    )

    def render() -> RenderedFeed:
        entries = AlertStore(state.store).watch_entries(name, limit)
        body = fmt.render(watch_meta, entries)
        return RenderedFeed(body=body, last_modified=feed_updated(entries))

    document = feed_cache().document(("watch", name, limit), state.store.version, render)
    return _response(document, fmt)


def _render(
    store: Store, meta: FeedMeta, fmt: FeedFormat, limit: int, search: SearchQuery | None
) -> RenderedFeed:
    category = None if meta.category == ALL_CATEGORIES else meta.category
    entries = params.matching_page(
        store, EntryQuery(category=category, limit=limit), search, "newest"
    ).entries
    return RenderedFeed(body=fmt.render(meta, entries), last_modified=feed_updated(entries))


def _search_meta(meta: FeedMeta, search: SearchQuery) -> FeedMeta:
    """The feed of a saved search: its own title, id and self link. No WebSub hub: the
    hub is pinged for category feeds only, so it would never announce this one."""
    title = SEARCH_TITLE.format(title=meta.title, query=search.text)
    return replace(meta, title=title, description=title, websub_hub=None, search=search.text)


def _response(document: CachedFeed, fmt: FeedFormat) -> Response:
    response = respond(document, fmt.content_type)
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE_SECONDS
    if fmt.media_type == "application/feed+json":
        # Feeds are public: let other sites' scripts read the JSON one.
        response.headers["Access-Control-Allow-Origin"] = "*"
    return response
