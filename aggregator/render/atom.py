"""Atom 1.0 (RFC 4287) rendering of a merged feed, provenance included."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from feedgen.entry import FeedEntry
from feedgen.ext.base import BaseEntryExtension
from feedgen.util import xml_elem

from aggregator.models import StoredEntry
from aggregator.parse.sanitize import web_link
from aggregator.render.common import FeedMeta, attachments, source_name, with_stylesheet
from aggregator.render.xmlfeed import feed_generator

# An lxml element: lxml ships no type stubs, and feedgen hands extensions its elements.
Element = Any

MEDIA_TYPE = "application/atom+xml"
EXTENSION = "atom"
_PROVENANCE = "provenance"


@dataclass(frozen=True, slots=True)
class _Link:
    href: str
    title: str


@dataclass(frozen=True, slots=True)
class _Provenance:
    """Where an entry came from: the feed of the report shown, and the other reports."""

    source_title: str
    source_feed_url: str | None
    via: tuple[_Link, ...]
    enclosures: tuple[tuple[str, str], ...]  # the entry's attachments: URL, media type


class _ProvenanceElements(BaseEntryExtension):  # type: ignore[misc]  # feedgen is untyped
    """Writes `atom:source` (the shown report's feed: id, title, self link), one
    `link rel="via"` per other report and one `link rel="enclosure"` per attachment.

    Written here, through feedgen's extension hook, because feedgen cannot: its `source()`
    gives no id and a link without `rel`, and feedgen 1.0 drops the `rel` of every entry
    link it writes (the loop variable is rebound to the new element before `rel` is read),
    which would turn each `via` (or `enclosure`) into an `alternate`.
    """

    def __init__(self) -> None:
        self.provenance: _Provenance | None = None

    def extend_atom(self, entry: Element) -> Element:
        if self.provenance is None:
            return entry
        for link in self.provenance.via:
            xml_elem("link", entry, rel="via", href=link.href, title=link.title)
        for url, kind in self.provenance.enclosures:
            xml_elem("link", entry, rel="enclosure", href=url, type=kind)
        # Unqualified names, like feedgen's own: they take the feed's default Atom namespace.
        source = xml_elem("source", entry)
        feed_url = self.provenance.source_feed_url
        if feed_url:
            xml_elem("id", source).text = feed_url
        xml_elem("title", source).text = self.provenance.source_title
        if feed_url:
            xml_elem("link", source, rel="self", href=feed_url)
        return entry


def render_atom(meta: FeedMeta, entries: Sequence[StoredEntry]) -> bytes:
    """The feed as an Atom document, UTF-8 encoded."""
    generator, pairs = feed_generator(meta, entries, EXTENSION, MEDIA_TYPE)
    for item, entry in pairs:
        _add_provenance(item, meta, entry)
    document: bytes = generator.atom_str(pretty=False)
    return with_stylesheet(document, meta)


def _add_provenance(item: FeedEntry, meta: FeedMeta, entry: StoredEntry) -> None:
    if not entry.reports:
        return
    shown, *others = entry.reports
    via = []
    for report in others:
        href = web_link(report.link) or meta.source_feed_url(report.source_id)
        if href:
            via.append(_Link(href, source_name(report)))
    item.register_extension(_PROVENANCE, _ProvenanceElements, atom=True, rss=False)
    extension: _ProvenanceElements = getattr(item, _PROVENANCE)
    extension.provenance = _Provenance(
        source_name(shown), meta.source_feed_url(shown.source_id), tuple(via),
        tuple(attachments(entry)),
    )
