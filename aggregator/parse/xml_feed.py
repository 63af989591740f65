"""Reading RSS 0.9x/1.0/2.0 and Atom 0.3/1.0 with feedparser.

feedparser gets UTF-8 bytes and headers, never a URL (it must not fetch), and
its own sanitiser and relative-URI resolution are off: they cost most of its
time, and we sanitise once, ourselves. Dates are taken as the raw strings the
feed wrote, because feedparser's parsed dates misread the formats our sources use.
"""

from __future__ import annotations

import re
from typing import Any
from xml.sax import SAXParseException

import feedparser

from aggregator.parse.charset import media_type, with_utf8_declaration
from aggregator.parse.raw import ParseError, RawEntry, RawFeed, RawText

__all__ = ["read_xml_feed", "root_element"]

_PLAIN_TEXT_TYPES = frozenset({"text/plain"})
# Skips the XML declaration, processing instructions, comments and a DOCTYPE
# (with its internal subset) to find the name of the first element. The
# possessive *+ stops a hostile prolog from backtracking exponentially.
_ROOT_ELEMENT = re.compile(
    r"""^(?:\s+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE(?:[^\[>]|\[[^\]]*\])*+>)*+<([A-Za-z_][\w:.-]*)""",
    re.DOTALL | re.IGNORECASE,
)


def root_element(text: str) -> str | None:
    """The first element's name ("rss", "html", ...), or None when there is none."""
    match = _ROOT_ELEMENT.match(text[:65536])
    return match[1] if match else None


def read_xml_feed(text: str, *, content_type: str | None, url: str) -> RawFeed:
    # A byte order mark or whitespace before the XML declaration makes the
    # strict parser give up on an otherwise fine document.
    document = with_utf8_declaration(text.lstrip("\ufeff \t\r\n")).encode("utf-8")
    result = feedparser.parse(
        document,
        sanitize_html=False,
        resolve_relative_uris=False,
        response_headers={
            "content-type": f"{media_type(content_type) or 'application/xml'}; charset=utf-8",
            "content-location": url,
        },
    )
    broken_xml = result.get("bozo_exception")
    if not isinstance(broken_xml, SAXParseException):
        broken_xml = None
    if not result.get("version"):
        if broken_xml is not None:
            raise ParseError(f"the feed is not well-formed XML: {_describe(broken_xml)}")
        raise ParseError(_not_a_feed(root_element(text)))
    # RSS says its text is (escaped) HTML; feedparser's "text/plain" for an RSS
    # element is only its guess. Atom and its type="text" mean what they say.
    rss = str(result.version).startswith("rss")
    # A document cut short leaves an entry opened with nothing read into it.
    entries = tuple(
        entry
        for entry in (_entry(item, rss=rss) for item in result.entries)
        if entry.guid or entry.link or entry.title or entry.summary or entry.content
    )
    if broken_xml is not None and not entries:
        raise ParseError(f"the feed is not well-formed XML: {_describe(broken_xml)}")
    return RawFeed(
        title=_text(result.feed, "title", rss=rss),
        link=_string(result.feed, "link"),
        entries=entries,
    )


def _entry(entry: Any, *, rss: bool) -> RawEntry:
    published = _string(entry, "published") or _string(entry, "created")
    return RawEntry(
        guid=_string(entry, "id"),
        link=_string(entry, "link"),
        title=_text(entry, "title", rss=rss),
        summary=_text(entry, "summary", rss=rss),
        content=_content(entry, rss=rss),
        published=published,
        updated=_string(entry, "updated"),
        author=_string(entry, "author"),
        tags=tuple(
            term
            for tag in entry.get("tags") or ()
            if isinstance(term := tag.get("term") or tag.get("label"), str)
        ),
    )


def _content(entry: Any, *, rss: bool) -> RawText | None:
    # Atom allows several <content> elements; prefer the HTML one.
    contents = [c for c in entry.get("content") or () if isinstance(c.get("value"), str)]
    if not contents:
        return None
    best = next((c for c in contents if c.get("type") not in _PLAIN_TEXT_TYPES), contents[0])
    return RawText(best["value"], is_html=rss or best.get("type") not in _PLAIN_TEXT_TYPES)


def _text(thing: Any, key: str, *, rss: bool) -> RawText | None:
    value = _string(thing, key)
    if value is None:
        return None
    detail = dict.get(thing, f"{key}_detail") or {}
    return RawText(value, is_html=rss or detail.get("type") not in _PLAIN_TEXT_TYPES)


def _string(thing: Any, key: str) -> str | None:
    # dict.get, not thing.get: FeedParserDict answers "updated" with "published".
    value = dict.get(thing, key)
    return value if isinstance(value, str) and value.strip() else None


def _not_a_feed(root: str | None) -> str:
    if root is None:
        return "the document does not start with an XML element, so it is not a feed"
    return (
        f"the document is XML, but its root element <{root}> is not <rss>, <feed> or "
        "<rdf:RDF>, so it is not a feed (is this the right URL?)"
    )


def _describe(error: SAXParseException) -> str:
    return f"line {error.getLineNumber()}, column {error.getColumnNumber()}: {error.getMessage()}"
