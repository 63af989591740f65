"""What the Atom, RSS and JSON Feed renderers share: feed metadata and clean entry fields.

Everything the store holds came from untrusted sources, so each field passes through here
on its way out: text loses the characters XML cannot carry, HTML is sanitised once more,
links keep only web schemes.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, urlencode, urlsplit

from aggregator.models import Category, Config, SourceReport, StoredEntry
from aggregator.parse.sanitize import sanitize_html, strip_control_chars

ALL_CATEGORIES = "all"
ALL_TITLE = "全部新聞"
ALL_DESCRIPTION = "所有類別的最新消息"
UNTITLED = "(無標題)"
# The `updated` of a feed with no entries: fixed, so an empty feed renders identically.
EMPTY_FEED_UPDATED = datetime(1970, 1, 1, tzinfo=UTC)

_WEB_SCHEMES = frozenset({"http", "https"})


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

    def source_feed_url(self, source_id: str) -> str | None:
        """The URL of a source's own feed; None when the source has left the configuration."""
        return web_link(self.source_urls.get(source_id))

    def self_url(self, extension: str) -> str:
        url = f"{self.base_url}/feeds/{self.category}.{extension}"
        return url if self.search is None else f"{url}?{urlencode({'q': self.search})}"

    @property
    def home_url(self) -> str:
        """The reader view showing the same entries."""
        filters = {} if self.category == ALL_CATEGORIES else {"category": self.category}
        if self.search is not None:
            filters["q"] = self.search
        return f"{self.base_url}/" + (f"?{urlencode(filters)}" if filters else "")


def feed_meta(config: Config, category: str) -> FeedMeta | None:
    """The metadata of the merged feed of `category`; None when no such category exists."""
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
        base_url=config.settings.base_url.rstrip("/"),
        category_titles={slug: c.title for slug, c in config.categories.items()},
        source_urls={source.id: source.url for source in config.sources},
        websub_hub=config.settings.websub_hub,
    )


def clean_html(fragment: str, base_url: str | None) -> str:
    """Sanitised again at render: the store's copy was sanitised at parse, but defence in
    depth costs little with nh3. Relative URLs resolve against `base_url`, the entry's link,
    since a feed reader has no page to resolve them against."""
    return strip_control_chars(sanitize_html(strip_control_chars(fragment), base_url=base_url))


def web_link(url: str | None) -> str | None:
    """`url` when it is an absolute http(s) URL, else None: a source's `javascript:` link or
    a relative path must not reach readers. Inner whitespace, which some government sites
    leave in their links, is percent-encoded rather than dropping the link."""
    if url is None:
        return None
    cleaned = "".join(
        quote(char) if char.isspace() else char for char in strip_control_chars(url).strip()
    )
    try:
        parts = urlsplit(cleaned)
    except ValueError:
        return None
    if parts.scheme.lower() not in _WEB_SCHEMES or not parts.netloc:
        return None
    return cleaned


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
