"""Rendered pages of the river of news, kept in process until the store changes.

The reader view and `/api/entries` show only what the store holds, filtered by the query
string, in the request's language: the same request at the same store version gives the
same bytes. So, like the feeds, each distinct request is rendered once per store version
(queries, sanitising and templating cost ~10 ms at 100,000 entries), and repeats are
served from memory with an ETag that lets browsers revalidate with a 304.

A view wrapped here must depend on nothing but its URL, its query string, the language
and the store: no session, no cookie, no clock.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec

from flask import Flask, Response, current_app, request

from aggregator.web.feedcache import FeedCache, RenderedFeed, respond
from aggregator.web.state import current_state
from aggregator.web.templating import current_language

CACHE_KEY = "aggregator.page_cache"

Params = ParamSpec("Params")


def init_app(app: Flask) -> None:
    # Its own cache: arbitrary query strings must not push the feeds out.
    app.extensions[CACHE_KEY] = FeedCache()


def cached_page(
    content_type: str,
) -> Callable[[Callable[Params, str | Response]], Callable[Params, Response]]:
    """Serve the wrapped view's output from the page cache, as `content_type`."""

    def decorate(view: Callable[Params, str | Response]) -> Callable[Params, Response]:
        @functools.wraps(view)
        def serve(*args: Params.args, **kwargs: Params.kwargs) -> Response:
            key = (
                request.endpoint,
                current_language(),
                tuple(sorted((request.view_args or {}).items())),
                tuple(sorted(request.args.items(multi=True))),
            )

            def render() -> RenderedFeed:
                body = current_app.make_response(view(*args, **kwargs)).get_data()
                return RenderedFeed(body=body, last_modified=None)

            document = _page_cache().document(key, current_state().store.version, render)
            return respond(document, content_type)

        return serve

    return decorate


def _page_cache() -> FeedCache:
    cache = current_app.extensions[CACHE_KEY]
    if not isinstance(cache, FeedCache):
        raise RuntimeError("the page cache was not set up: call pagecache.init_app")
    return cache
