"""The part of an Atom or RSS document that both formats build the same way, with feedgen."""

from __future__ import annotations

from collections.abc import Sequence

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator

from aggregator.models import StoredEntry
from aggregator.parse.sanitize import web_link
from aggregator.render.common import (
    FeedMeta,
    as_utc,
    clean_html,
    entry_author,
    entry_id,
    entry_title,
    feed_updated,
)
from aggregator.text.chars import strip_control_chars


def feed_generator(
    meta: FeedMeta, entries: Sequence[StoredEntry], extension: str, media_type: str
) -> tuple[FeedGenerator, list[tuple[FeedEntry, StoredEntry]]]:
    """A generator holding the feed's metadata and one feedgen entry per stored entry, in order.

    The caller adds what only its format carries, then serialises.
    """
    generator = FeedGenerator()
    # The Atom URL is the id of every format of this feed: one feed, one identity.
    generator.id(meta.self_url("atom"))
    generator.title(strip_control_chars(meta.title))
    generator.subtitle(strip_control_chars(meta.description))
    # RFC 4287 wants an author for the feed or for every entry; the aggregator is the author.
    generator.author(name=strip_control_chars(meta.title))
    generator.link(href=meta.self_url(extension), rel="self", type=media_type)
    if meta.websub_hub:
        generator.link(href=meta.websub_hub, rel="hub")
    # Last: feedgen takes the RSS channel link from the last link added.
    generator.link(href=meta.home_url, rel="alternate", type="text/html")
    # Set explicitly, or feedgen stamps the time of rendering and no two renders would match.
    generator.updated(feed_updated(entries))
    pairs = [(_feed_entry(generator, meta, entry), entry) for entry in entries]
    return generator, pairs


def _feed_entry(generator: FeedGenerator, meta: FeedMeta, entry: StoredEntry) -> FeedEntry:
    item: FeedEntry = generator.add_entry(order="append")
    item.id(entry_id(entry))
    item.title(entry_title(entry))
    link = web_link(entry.link)
    if link:
        item.link(href=link, rel="alternate")
    item.published(as_utc(entry.published))
    item.updated(as_utc(entry.updated))
    content = clean_html(entry.content, link)
    item.content(content, type="html")
    summary = clean_html(entry.summary, link)
    if summary and summary != content:
        item.summary(summary, type="html")
    for slug in entry.categories:
        label = meta.category_titles.get(slug, slug)
        item.category(term=strip_control_chars(slug), label=strip_control_chars(label))
    author = entry_author(entry)
    if author:
        item.author(name=author)
    return item
