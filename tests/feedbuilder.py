"""Build RSS 2.0 and Atom 1.0 documents for tests that need a feed made to measure.

    rss([FeedItem("颱風停班停課", link="https://example.gov.tw/news/1",
                  published=datetime(2025, 3, 22, 2, tzinfo=UTC))])

`published` may be a datetime (written in the format's standard form) or a string
written exactly as given, for tests of messy dates. Text is escaped; `description`
and `content` are HTML, as feeds carry them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape, quoteattr

__all__ = ["FeedItem", "atom", "rss"]


@dataclass(frozen=True)
class FeedItem:
    title: str
    link: str | None = None
    guid: str | None = None
    description: str | None = None  # HTML: RSS <description>, Atom <summary>
    content: str | None = None  # HTML: RSS <content:encoded>, Atom <content>
    published: datetime | str | None = None
    author: str | None = None
    categories: tuple[str, ...] = ()


def rss(
    items: Sequence[FeedItem],
    *,
    title: str = "高雄市政府 市政新聞",
    link: str = "https://www.example.gov.tw/",
    encoding: str = "utf-8",
) -> bytes:
    """An RSS 2.0 document, encoded (and declared) as `encoding`."""
    body = "".join(_rss_item(item) for item in items)
    document = (
        f'<?xml version="1.0" encoding="{encoding}"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">\n'
        f"<channel><title>{escape(title)}</title><link>{escape(link)}</link>"
        f"<description>{escape(title)}</description>\n{body}</channel></rss>\n"
    )
    return document.encode(encoding)


def atom(
    items: Sequence[FeedItem],
    *,
    title: str = "高雄市政府 市政新聞",
    link: str = "https://www.example.gov.tw/",
    feed_id: str = "tag:example.gov.tw,2025:news",
    updated: datetime | None = None,
) -> bytes:
    """An Atom 1.0 document in UTF-8. Items without a guid get their link (or title) as id."""
    newest = updated or max(
        (item.published for item in items if isinstance(item.published, datetime)),
        default=datetime(2025, 1, 1, tzinfo=UTC),
    )
    body = "".join(_atom_entry(item) for item in items)
    document = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom">\n'
        f"<title>{escape(title)}</title><link href={quoteattr(link)}/>"
        f"<id>{escape(feed_id)}</id><updated>{newest.isoformat()}</updated>\n{body}</feed>\n"
    )
    return document.encode("utf-8")


def _rss_item(item: FeedItem) -> str:
    parts = [f"<title>{escape(item.title)}</title>"]
    if item.link is not None:
        parts.append(f"<link>{escape(item.link)}</link>")
    if item.guid is not None:
        parts.append(f'<guid isPermaLink="false">{escape(item.guid)}</guid>')
    if item.description is not None:
        parts.append(f"<description>{escape(item.description)}</description>")
    if item.content is not None:
        parts.append(f"<content:encoded>{escape(item.content)}</content:encoded>")
    if item.published is not None:
        date = item.published
        text = format_datetime(date) if isinstance(date, datetime) else date
        parts.append(f"<pubDate>{escape(text)}</pubDate>")
    if item.author is not None:
        parts.append(f"<author>{escape(item.author)}</author>")
    parts.extend(f"<category>{escape(category)}</category>" for category in item.categories)
    return "<item>" + "".join(parts) + "</item>\n"


def _atom_entry(item: FeedItem) -> str:
    identifier = item.guid or item.link or item.title
    parts = [f'<title type="text">{escape(item.title)}</title>', f"<id>{escape(identifier)}</id>"]
    if item.link is not None:
        parts.append(f"<link rel=\"alternate\" href={quoteattr(item.link)}/>")
    if item.description is not None:
        parts.append(f'<summary type="html">{escape(item.description)}</summary>')
    if item.content is not None:
        parts.append(f'<content type="html">{escape(item.content)}</content>')
    if item.published is not None:
        date = item.published
        text = date.isoformat() if isinstance(date, datetime) else date
        parts.append(f"<published>{escape(text)}</published><updated>{escape(text)}</updated>")
    if item.author is not None:
        parts.append(f"<author><name>{escape(item.author)}</name></author>")
    parts.extend(f"<category term={quoteattr(category)}/>" for category in item.categories)
    return "<entry>" + "".join(parts) + "</entry>\n"
