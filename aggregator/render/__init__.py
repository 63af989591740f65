"""Merged output feeds as bytes: pure functions of stored entries and feed metadata."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from aggregator.models import StoredEntry
from aggregator.render import atom, jsonfeed, rss
from aggregator.render.common import ALL_CATEGORIES, FeedMeta, feed_meta, source_feed_meta

Renderer = Callable[[FeedMeta, Sequence[StoredEntry]], bytes]


@dataclass(frozen=True, slots=True)
class FeedFormat:
    extension: str  # in the URL: /feeds/<category>.<extension>
    media_type: str
    render: Renderer

    @property
    def content_type(self) -> str:
        return f"{self.media_type}; charset=utf-8"


FORMATS: Mapping[str, FeedFormat] = {
    fmt.extension: fmt
    for fmt in (
        FeedFormat(atom.EXTENSION, atom.MEDIA_TYPE, atom.render_atom),
        FeedFormat(rss.EXTENSION, rss.MEDIA_TYPE, rss.render_rss),
        FeedFormat(jsonfeed.EXTENSION, jsonfeed.MEDIA_TYPE, jsonfeed.render_json_feed),
    )
}

__all__ = [
    "ALL_CATEGORIES",
    "FORMATS",
    "FeedFormat",
    "FeedMeta",
    "Renderer",
    "feed_meta",
    "source_feed_meta",
]
