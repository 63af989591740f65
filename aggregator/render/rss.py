"""RSS 2.0 rendering of a merged feed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from feedgen.entry import FeedEntry
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.util import xml_elem
from markupsafe import escape

from aggregator.models import SourceReport, StoredEntry
from aggregator.parse.sanitize import web_link
from aggregator.render.common import (
    FeedMeta,
    attachments,
    entry_author,
    source_name,
    with_stylesheet,
)
from aggregator.render.xmlfeed import feed_generator

# An lxml element: lxml ships no type stubs, and feedgen hands extensions its elements.
Element = Any

MEDIA_TYPE = "application/rss+xml"
EXTENSION = "rss"
_ATOM_NS = "http://www.w3.org/2005/Atom"
_HUB = "websub"
_VIA = "via"
ALSO_IN = "亦見於"


class _HubLink(BaseExtension):  # type: ignore[misc]  # feedgen is untyped
    """Writes `atom:link rel="hub"` into the channel: feedgen carries only the self link over
    from Atom to RSS, and WebSub subscribers look for the hub beside it."""

    def __init__(self) -> None:
        self.hub: str | None = None

    def extend_rss(self, rss: Element) -> Element:
        if self.hub:
            channel = rss.find("channel")
            xml_elem(f"{{{_ATOM_NS}}}link", channel, rel="hub", href=self.hub)
        return rss


class _ViaLinks(BaseEntryExtension):  # type: ignore[misc]  # feedgen is untyped
    """Writes one `atom:link rel="via"` per other report into an item, as the Atom feed
    does: RSS's own `source` names only one."""

    def __init__(self) -> None:
        self.links: tuple[tuple[str, str], ...] = ()  # (href, source name)

    def extend_rss(self, item: Element) -> Element:
        for href, title in self.links:
            xml_elem(f"{{{_ATOM_NS}}}link", item, rel="via", href=href, title=title)
        return item


def render_rss(meta: FeedMeta, entries: Sequence[StoredEntry]) -> bytes:
    """The feed as an RSS 2.0 document, UTF-8 encoded."""
    generator, pairs = feed_generator(meta, entries, EXTENSION, MEDIA_TYPE)
    generator.register_extension(_HUB, _HubLink, atom=False, rss=True)
    hub_link: _HubLink = getattr(generator, _HUB)
    hub_link.hub = meta.websub_hub
    # RSS's own <author> must be an e-mail address: names go in dc:creator.
    generator.load_extension("dc", atom=False, rss=True)
    for item, entry in pairs:
        author = entry_author(entry)
        if author:
            item.dc.dc_creator(author)
        # RSS allows one enclosure an item: the first attachment. Its size is unknown (0).
        for url, kind in attachments(entry)[:1]:
            item.enclosure(url=url, length="0", type=kind)
        if entry.reports:
            shown = entry.reports[0]
            feed_url = meta.source_feed_url(shown.source_id)
            if feed_url:
                item.source(url=feed_url, title=source_name(shown))
            _name_other_sources(item, meta, entry.reports[1:])
    document: bytes = generator.rss_str(pretty=False)
    return with_stylesheet(document, meta)


def _name_other_sources(item: FeedEntry, meta: FeedMeta, others: tuple[SourceReport, ...]) -> None:
    """Which other sources carried the story: a line a person reads at the end of the
    content, and `via` links a program reads."""
    if not others:
        return
    links = [
        (web_link(r.link) or meta.source_feed_url(r.source_id), source_name(r)) for r in others
    ]
    named = "、".join(
        f'<a href="{escape(href)}">{escape(name)}</a>' if href else str(escape(name))
        for href, name in links
    )
    content = item.content() or {}
    item.content(f"{content.get('content', '')}<p>{ALSO_IN}：{named}</p>", type="html")
    item.register_extension(_VIA, _ViaLinks, atom=False, rss=True)
    via: _ViaLinks = getattr(item, _VIA)
    via.links = tuple((href, name) for href, name in links if href)
