"""The parse stage: a fetched body → a `ParsedFeed` of clean entries, or `ParseError`.

Pure: no I/O. The body is decoded here (see `parse_charset`), handed to the
XML or the JSON Feed reader, and what they return is cleaned in one place:
text fields become plain text, HTML is sanitised with relative URLs resolved,
dates are read with `dates.parse_date`.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

from aggregator.models import ItemPage, OpenDataFields, ParsedEntry, ParsedFeed, SourceFormat
from aggregator.parse.cap import area_categories, read_cap
from aggregator.parse.charset import decode_body, media_type
from aggregator.parse.dates import has_time_of_day, parse_date
from aggregator.parse.html_list import document_links, item_content, read_html_list
from aggregator.parse.json_feed import is_json_feed, read_json_feed
from aggregator.parse.opendata import is_opendata, read_opendata
from aggregator.parse.raw import ParseError, RawEntry, RawFeed, RawText
from aggregator.parse.sanitize import sanitize_html, strip_bidi_controls, text_to_html, web_link
from aggregator.parse.xml_feed import read_xml_feed, root_element
from aggregator.text.chars import strip_control_chars
from aggregator.text.markup import inline_text

__all__ = ["ParseError", "parse_feed", "parse_item_page"]

_JSON_MEDIA_TYPES = frozenset({"application/feed+json", "application/json"})
_FEED_ROOTS = frozenset({"rss", "feed", "rdf:rdf"})
FEED = SourceFormat()  # the default kind: a feed, told apart by content

# What one entry may bring, whatever the feed sends: a headline, a summary and an article
# (sanitised HTML, cut and sanitised again so the cut closes its tags), a link short enough
# for the store's index (longer ones are dropped, never cut: a cut link leads nowhere).
MAX_TITLE = 500  # characters
MAX_SUMMARY = 20_000
MAX_CONTENT = 200_000
MAX_LINK_BYTES = 2_000  # UTF-8; PostgreSQL's btree refuses index rows over 2,704 bytes
MAX_AUTHOR = 200
MAX_TAGS = 20
MAX_TAG = 100


def parse_feed(
    body: bytes,
    *,
    content_type: str | None,
    url: str,
    fetched_at: datetime,
    timezone: str,
    source_format: SourceFormat = FEED,
) -> ParsedFeed:
    """Read a feed body, or whatever `source_format.kind` says the source sends instead.
    Zone-less dates are in `timezone`; none is later than `fetched_at`.

    Raises ParseError, whose message says what is wrong in words a person can act on.
    """
    text = decode_body(body, content_type).lstrip("\ufeff \t\r\n")
    if not text:
        raise ParseError("the server sent an empty response instead of a feed")
    raw = _read_kind(text, content_type=content_type, url=url, source_format=source_format,
                     fetched_at=fetched_at, timezone=timezone)
    return _clean_feed(raw, url=url, fetched_at=fetched_at, timezone=timezone,
                       area_mapping=source_format.areas)


def parse_item_page(
    body: bytes, *, content_type: str | None, url: str, selector: str
) -> ItemPage | None:
    """An html source's item page (`follow: true`) → its full text: the element `selector`
    finds there, as sanitised HTML with its links made absolute, cut to the content's bound,
    and the documents (PDF) it links to. None when the selector finds nothing there."""
    found = item_content(decode_body(body, content_type), selector)
    if found is None:
        return None
    content = _html(RawText(found, is_html=True), base_url=url, limit=MAX_CONTENT,
                    what="content", cuts=Counter())
    if not content:
        return None
    return ItemPage(content=content, attachments=document_links(content))


def _read_kind(
    text: str,
    *,
    content_type: str | None,
    url: str,
    source_format: SourceFormat,
    fetched_at: datetime,
    timezone: str,
) -> RawFeed:
    kind = source_format.kind
    if kind == "html":
        if source_format.selectors is None:
            raise ParseError("a source of kind html needs 'selectors' (see `aggregator check`)")
        if (root_element(text) or "").lower() in _FEED_ROOTS:
            raise ParseError("the page is a feed, not a news list: set kind: feed instead")
        return read_html_list(text, source_format.selectors)
    if kind == "cap":
        return read_cap(text, now=fetched_at, timezone=timezone)
    # feed and opendata alike: the CMS's OpenData endpoint answers RSS for some SNs.
    return _read(text, content_type=content_type, url=url, fields=source_format.fields)


def _read(text: str, *, content_type: str | None, url: str, fields: OpenDataFields) -> RawFeed:
    if text.startswith(("{", "[")) or (
        not text.startswith("<") and media_type(content_type) in _JSON_MEDIA_TYPES
    ):
        return _read_json(text, fields)
    if not text.startswith("<"):
        raise ParseError("the response is neither XML nor JSON, so it is not a feed")
    if (root_element(text) or "").lower() == "html":
        raise ParseError(
            "the URL returned an HTML page, not a feed (is it the site's home page? "
            "Look in the page for a link to its RSS feed)"
        )
    return read_xml_feed(text, content_type=content_type, url=url)


def _read_json(text: str, fields: OpenDataFields) -> RawFeed:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ParseError(f"the response is not valid JSON ({error}), so it is not a feed") from None
    except RecursionError:
        raise ParseError("the response is JSON nested too deeply to be a feed") from None
    if is_opendata(document):
        return read_opendata(document, fields)
    if not is_json_feed(document):
        raise ParseError(
            "the URL returned JSON, but not a JSON Feed: it lacks "
            '"version": "https://jsonfeed.org/version/1.1" (is it an API rather than a feed?)'
        )
    return read_json_feed(document)


def _clean_feed(
    raw: RawFeed,
    *,
    url: str,
    fetched_at: datetime,
    timezone: str,
    area_mapping: tuple[tuple[str, str], ...],
) -> ParsedFeed:
    cuts: Counter[str] = Counter()
    unusable_dates: list[str] = []

    def date(text: str | None) -> datetime | None:
        return None if text is None else parse_date(text, timezone=timezone, now=fetched_at)

    def entry(raw_entry: RawEntry) -> ParsedEntry:
        link = _web_link(raw_entry.link, url, cuts)
        summary = _html(raw_entry.summary, base_url=link or url, limit=MAX_SUMMARY,
                        what="summary", cuts=cuts)
        content = _html(raw_entry.content, base_url=link or url, limit=MAX_CONTENT,
                        what="content", cuts=cuts)
        published, dated_by = date(raw_entry.published), raw_entry.published
        if published is None:
            published, dated_by = date(raw_entry.updated), raw_entry.updated
        if published is None and (given := raw_entry.published or raw_entry.updated):
            unusable_dates.append(given)
        return ParsedEntry(
            guid=_plain(raw_entry.guid) or None,
            link=link,
            title=_title(raw_entry.title, cuts),
            # Content keeps its bidi controls (pages show it in an isolated block); a
            # summary is shown inline, in lists.
            summary=strip_bidi_controls(summary or content),
            content=content or summary,
            published=published,
            # A day with no time (114/03/16) is shown as a date, not as 00:00.
            published_has_time=dated_by is None or has_time_of_day(dated_by),
            updated=date(raw_entry.updated) or published,
            author=_plain(raw_entry.author)[:MAX_AUTHOR] or None,
            tags=tuple(
                dict.fromkeys(tag[:MAX_TAG] for tag in map(_plain, raw_entry.tags) if tag)
            )[:MAX_TAGS],
            agency=_plain(raw_entry.agency)[:MAX_AUTHOR] or None,
            expires=raw_entry.expires.astimezone(UTC) if raw_entry.expires else None,
            severity=_plain(raw_entry.severity)[:MAX_TAG] or None,
            areas=raw_entry.areas,
            categories=area_categories(raw_entry.areas, area_mapping),
        )

    entries = tuple(entry(raw_entry) for raw_entry in raw.entries)
    return ParsedFeed(
        title=_title(raw.title, cuts) or None,
        link=_web_link(raw.link, url, cuts),
        entries=entries,
        notes=_notes(cuts, unusable_dates),
    )


def _notes(cuts: Counter[str], unusable_dates: list[str]) -> tuple[str, ...]:
    notes = [
        f"{count} {what}{'s' if count > 1 else ''} too long for the store: {action}"
        for what, action in _CUT_ACTIONS.items()
        if (count := cuts[what])
    ]
    if unusable_dates:
        example = unusable_dates[0][:60]
        notes.append(
            f"{len(unusable_dates)} entr{'ies' if len(unusable_dates) > 1 else 'y'} without a "
            f"usable date (such as {example!r}: before 1990, more than a day ahead, or "
            "unreadable), dated when first seen"
        )
    return tuple(notes)


_CUT_ACTIONS = {
    "title": f"cut to {MAX_TITLE:,} characters",
    "summary": f"cut to about {MAX_SUMMARY:,} characters",
    "content": f"cut to about {MAX_CONTENT:,} characters",
    "link": f"longer than {MAX_LINK_BYTES:,} bytes, left out",
}


def _title(text: RawText | None, cuts: Counter[str]) -> str:
    if text is None:
        return ""
    value = strip_bidi_controls(strip_control_chars(text.value))
    title = inline_text(sanitize_html(value)) if text.is_html else " ".join(value.split())
    if len(title) <= MAX_TITLE:
        return title
    cuts["title"] += 1
    return title[: MAX_TITLE - 1] + "…"


def _html(
    text: RawText | None, *, base_url: str, limit: int, what: str, cuts: Counter[str]
) -> str:
    if text is None:
        return ""
    value = strip_control_chars(text.value)
    html = sanitize_html(value if text.is_html else text_to_html(value), base_url=base_url)
    if len(html) <= limit:
        return html
    cuts[what] += 1
    return sanitize_html(html[:limit])


def _plain(text: str | None) -> str:
    return " ".join(strip_bidi_controls(strip_control_chars(text)).split()) if text else ""


def _web_link(link: str | None, base_url: str, cuts: Counter[str]) -> str | None:
    absolute = web_link(link, base_url)
    if absolute is not None and len(absolute.encode("utf-8")) > MAX_LINK_BYTES:
        cuts["link"] += 1
        return None
    return absolute
