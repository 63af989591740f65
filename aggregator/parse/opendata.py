"""Reading the JSON arrays that Taiwanese government sites publish instead of a feed.

The CMS most cities and counties run answers `OpenData.aspx?SN=...` with an array of flat
objects, one per news item, keyed in Chinese (標題, 連結, 發布日期, 內容) or in a mix
(title, 內容, 日期時間, 分類, 發布單位, url, Link). Those keys are recognised without
configuration; a source whose keys differ names them in `fields:` (`OpenDataFields`).
Dates are left as written (often ROC: 113/03/15 14:30) for `dates.parse_date`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import astuple, fields
from typing import Any, TypeGuard

from aggregator.models import OpenDataFields
from aggregator.parse.raw import ParseError, RawEntry, RawFeed, RawText

__all__ = ["is_opendata", "read_opendata"]

# Each part of an entry → the keys it is found under when `fields:` does not say, in order.
_USUAL_KEYS: Mapping[str, tuple[str, ...]] = {
    "title": ("標題", "title", "Title"),
    "link": ("連結", "url", "Link", "link", "URL"),
    "published": ("發布日期", "日期時間", "發布時間", "date"),
    "content": ("內容", "content"),
    "agency": ("發布單位",),
    "category": ("分類",),
}
_FIELD_NAMES = tuple(field.name for field in fields(OpenDataFields))
# Some arrays carry HTML in 內容, others plain text with line breaks: tags tell them apart.
_HTML_TAG = re.compile(r"<(?:[a-zA-Z][a-zA-Z0-9]*\b[^>]*|/[a-zA-Z][a-zA-Z0-9]*\s*)>")


def is_opendata(document: object) -> TypeGuard[list[Mapping[str, Any]]]:
    """An array of objects (an empty one too): never a feed format of its own."""
    return isinstance(document, list) and all(isinstance(item, Mapping) for item in document)


def read_opendata(document: object, named: OpenDataFields) -> RawFeed:
    if not is_opendata(document):
        raise ParseError(
            "the response is JSON, but not an OpenData array of news items "
            "(a list of objects such as {\"標題\": ..., \"連結\": ...})"
        )
    items = document
    keys = _keys(items, named)
    if items and not keys["title"]:
        seen = ", ".join(sorted({str(key) for item in items for key in item})[:12])
        raise ParseError(
            f"no item has a title under any key this reader knows (the items have: {seen}): "
            "name the keys in the source's 'fields:', such as fields: {title: 標題}"
        )
    return RawFeed(
        title=None,
        link=None,
        entries=tuple(
            entry for entry in (_entry(item, keys) for item in items) if entry.title is not None
        ),
    )


def _keys(
    items: Sequence[Mapping[str, Any]], named: OpenDataFields
) -> dict[str, tuple[str, ...]]:
    """Each part's keys, in the order they are tried: the one `fields:` names (which some
    item must have), else the usual keys that some item has."""
    present = {key for item in items for key in item}
    keys: dict[str, tuple[str, ...]] = {}
    for part, key in zip(_FIELD_NAMES, astuple(named), strict=True):
        if key is not None and items and key not in present:
            raise ParseError(
                f"'fields' says the {part} is under {key!r}, but no item has that key "
                f"(the items have: {', '.join(sorted(map(str, present))[:12])})"
            )
        usual = tuple(candidate for candidate in _USUAL_KEYS.get(part, ()) if candidate in present)
        keys[part] = usual if key is None else (key,)
    return keys


def _entry(item: Mapping[str, Any], keys: Mapping[str, tuple[str, ...]]) -> RawEntry:
    def value(part: str) -> str | None:
        # The first key with a value: one item's empty "url" gives way to its "Link".
        return next(filter(None, (_scalar(item.get(key)) for key in keys[part])), None)

    title = value("title")
    summary = value("summary")
    content = value("content")
    category = value("category")
    return RawEntry(
        guid=value("id"),
        link=value("link"),
        title=RawText(title, is_html=False) if title else None,
        summary=_text(summary),
        content=_text(content),
        published=value("published"),
        updated=value("updated"),
        author=None,
        tags=(category,) if category else (),
        agency=value("agency"),
    )


def _scalar(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    return str(value).strip() or None


def _text(value: str | None) -> RawText | None:
    return None if value is None else RawText(value, is_html=bool(_HTML_TAG.search(value)))
