"""What the Atom, RSS and JSON Feed renderers share: feed metadata and clean entry fields.

Everything the store holds came from untrusted sources, so each field passes through here
on its way out: text loses the characters XML cannot carry, HTML is sanitised once more,
links keep only web schemes.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit
from xml.sax.saxutils import quoteattr

from aggregator.models import Category, Config, SourceReport, StoredEntry
from aggregator.parse.sanitize import sanitize_html, web_link
from aggregator.text.chars import strip_control_chars

ALL_CATEGORIES = "all"
ALL_TITLE = "全部新聞"
ALL_DESCRIPTION = "所有類別的最新消息"
SOURCE_DESCRIPTION = "{title} 的最新消息"
UNTITLED = "(無標題)"
# The `updated` of a feed with no entries: fixed, so an empty feed renders identically.
EMPTY_FEED_UPDATED = datetime(1970, 1, 1, tzinfo=UTC)

@dataclass(frozen=True, slots=True)
class FeedMeta:
    """Who a merged feed is and where it lives: everything but its entries."""

    category: str  # a configured slug, or `all`
    title: str
    description: str
    base_url: str  # without a trailing slash
    category_titles: Mapping[str, str]  # slug -> title, to label each entry's categories
    source_urls: Mapping[str, str]  # source id -> the URL of its feed, for provenance
    websub_hub: str | None = None
    search: str | None = None  # a saved search: the feed holds the entries matching `?q=`
    source: str | None = None  # a source's own feed: its entries, whatever their category
    # An XSLT stylesheet that makes the Atom or RSS document readable in a browser.
    stylesheet_url: str | None = None

    def source_feed_url(self, source_id: str) -> str | None:
        """The URL of a source's own feed; None when the source has left the configuration."""
        return web_link(self.source_urls.get(source_id))

    def self_url(self, extension: str) -> str:
        url = f"{self.base_url}/feeds/{self.category}.{extension}"
        return url if self.search is None else f"{url}?{urlencode({'q': self.search})}"

    @property
    def home_url(self) -> str:
        """The reader view showing the same entries."""
        if self.source is not None:
            filters = {"source": self.source}
        elif self.category == ALL_CATEGORIES:
            filters = {}
        else:
            filters = {"category": self.category}
        if self.search is not None:
            filters["q"] = self.search
        return f"{self.base_url}/" + (f"?{urlencode(filters)}" if filters else "")


def feed_meta(config: Config, category: str, base_url: str) -> FeedMeta | None:
    """The metadata of the merged feed of `category` served at `base_url` (the configured
    public URL, else the request's); None when no such category exists."""
    if category == ALL_CATEGORIES:
        shown = Category(ALL_CATEGORIES, ALL_TITLE, ALL_DESCRIPTION)
    elif category in config.categories:
        shown = config.categories[category]
    else:
        return None
    return FeedMeta(
        category=shown.slug,
        title=shown.title,
        description=shown.description or shown.title,
        base_url=base_url.rstrip("/"),
        category_titles={slug: c.title for slug, c in config.categories.items()},
        source_urls={source.id: source.url for source in config.sources},
        websub_hub=config.settings.websub_hub,
    )


def source_feed_meta(config: Config, source_id: str, base_url: str) -> FeedMeta | None:
    """The metadata of the merged feed of one source's entries (its copies merged with other
    sources' as everywhere); None when no such source is configured."""
    source = next((known for known in config.sources if known.id == source_id), None)
    everything = feed_meta(config, ALL_CATEGORIES, base_url)
    if source is None or everything is None:
        return None
    title = source.title or source.id
    return replace(
        everything,
        category=f"source/{source.id}",
        title=title,
        description=SOURCE_DESCRIPTION.format(title=title),
        # The hub is pinged for category feeds only: it would never announce this one.
        websub_hub=None,
        source=source.id,
    )


def with_stylesheet(document: bytes, meta: FeedMeta) -> bytes:
    """`document` (an XML feed) with an `xml-stylesheet` instruction after its declaration,
    when `meta` names a stylesheet: browsers apply it, feed readers ignore it."""
    if meta.stylesheet_url is None:
        return document
    declaration_end = document.index(b"?>") + 2 if document.startswith(b"<?xml") else 0
    instruction = f'<?xml-stylesheet type="text/xsl" href={quoteattr(meta.stylesheet_url)}?>'
    return document[:declaration_end] + instruction.encode() + document[declaration_end:]


def clean_html(fragment: str, base_url: str | None) -> str:
    """Sanitised again at render: the store's copy was sanitised at parse, but defence in
    depth costs little with nh3. Relative URLs resolve against `base_url`, the entry's link,
    since a feed reader has no page to resolve them against."""
    return strip_control_chars(sanitize_html(strip_control_chars(fragment), base_url=base_url))


def entry_title(entry: StoredEntry) -> str:
    """The entry's title as plain text; a placeholder when the source gave none."""
    return strip_control_chars(entry.title).strip() or UNTITLED


def entry_id(entry: StoredEntry) -> str:
    """The entry's permanent id: derived from the store's id alone, so neither a new title
    nor a new base URL ever changes it."""
    return f"urn:uuid:{entry.id}"


def as_utc(moment: datetime) -> datetime:
    """`moment` in UTC; a naive value is taken to be UTC already, as the store writes it."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def feed_updated(entries: Sequence[StoredEntry]) -> datetime:
    """When the feed last changed: its newest entry's `updated`."""
    if not entries:
        return EMPTY_FEED_UPDATED
    return max(as_utc(entry.updated) for entry in entries)


def source_name(report: SourceReport) -> str:
    """The name of the source that made `report`, as plain text."""
    return strip_control_chars(report.source_title).strip() or report.source_id


def entry_author(entry: StoredEntry) -> str | None:
    """Who the entry is by, as plain text: the government unit that issued it (發布單位)
    when the source says, else the source that made its shown report."""
    agency = strip_control_chars(entry.agency or "").strip()
    if agency:
        return agency
    return source_name(entry.reports[0]) if entry.reports else None


def attachments(entry: StoredEntry) -> list[tuple[str, str]]:
    """The entry's attachments that readers may follow: (URL, media type told by its name)."""
    return [
        (url, mimetypes.guess_type(urlsplit(url).path)[0] or "application/octet-stream")
        for url in filter(None, map(web_link, entry.attachments))
    ]
