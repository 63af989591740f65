"""Reading JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1) documents.

Every field is checked for its type: a feed that sends a number where a string
belongs loses that field, not the whole entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aggregator.parse.raw import RawEntry, RawFeed, RawText

__all__ = ["is_json_feed", "read_json_feed"]

# 1.0 feeds in the wild also use the http:// form of the version URL.
_VERSION_PREFIXES = ("https://jsonfeed.org/version/1", "http://jsonfeed.org/version/1")


def is_json_feed(document: object) -> bool:
    if not isinstance(document, Mapping):
        return False
    version = document.get("version")
    return isinstance(version, str) and version.strip().lower().startswith(_VERSION_PREFIXES)


def read_json_feed(document: Mapping[str, Any]) -> RawFeed:
    title = _string(document, "title")
    return RawFeed(
        title=RawText(title, is_html=False) if title else None,
        link=_string(document, "home_page_url"),
        entries=tuple(
            _entry(item) for item in _list(document, "items") if isinstance(item, Mapping)
        ),
    )


def _entry(item: Mapping[str, Any]) -> RawEntry:
    content_html = _string(item, "content_html")
    content_text = _string(item, "content_text")
    summary = _string(item, "summary")  # plain text, per the specification
    title = _string(item, "title")
    return RawEntry(
        guid=_identifier(item),
        link=_string(item, "url") or _string(item, "external_url"),
        title=RawText(title, is_html=False) if title else None,
        summary=RawText(summary, is_html=False) if summary else None,
        content=(
            RawText(content_html, is_html=True)
            if content_html
            else RawText(content_text, is_html=False) if content_text else None
        ),
        published=_string(item, "date_published"),
        updated=_string(item, "date_modified"),
        author=_author_name(item),
        tags=tuple(tag for tag in _list(item, "tags") if isinstance(tag, str)),
    )


def _identifier(item: Mapping[str, Any]) -> str | None:
    # Ids may be numbers; the specification says to read them as strings.
    identifier = item.get("id")
    if isinstance(identifier, bool) or not isinstance(identifier, str | int):
        return None
    return str(identifier).strip() or None


def _author_name(item: Mapping[str, Any]) -> str | None:
    # 1.1 has a list of `authors`; 1.0 had a single `author`.
    authors = item.get("authors")
    candidates = authors if isinstance(authors, list) else [item.get("author")]
    names = [
        name
        for author in candidates
        if isinstance(author, Mapping) and (name := _string(author, "name"))
    ]
    return ", ".join(names) or None


def _list(mapping: Mapping[str, Any], key: str) -> list[Any]:
    value = mapping.get(key)
    return value if isinstance(value, list) else []


def _string(mapping: Mapping[str, Any], key: str) -> str | None:
    value = mapping.get(key)
    return value if isinstance(value, str) and value.strip() else None
