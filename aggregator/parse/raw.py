"""What a feed document says before it is cleaned: the common shape that the XML
reader (feedparser) and the JSON Feed reader both return, and their error."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aggregator.models import AlertArea

__all__ = ["ParseError", "RawEntry", "RawFeed", "RawText"]


class ParseError(Exception):
    """The body is not a feed we can read; str(error) tells a person what to do about it."""


@dataclass(frozen=True, slots=True)
class RawText:
    value: str
    is_html: bool  # False: plain text, which must be escaped before it is shown as HTML


@dataclass(frozen=True, slots=True)
class RawEntry:
    guid: str | None
    link: str | None
    title: RawText | None
    summary: RawText | None
    content: RawText | None
    published: str | None  # the date exactly as the feed wrote it
    updated: str | None
    author: str | None
    tags: tuple[str, ...]
    agency: str | None = None
    expires: datetime | None = None  # aware: CAP writes its dates with their offset
    severity: str | None = None
    areas: tuple[AlertArea, ...] = ()


@dataclass(frozen=True, slots=True)
class RawFeed:
    title: RawText | None
    link: str | None
    entries: tuple[RawEntry, ...]
