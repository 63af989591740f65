"""JSON Feed 1.1 (https://jsonfeed.org/version/1.1) rendering of a merged feed."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from aggregator.models import SourceReport, StoredEntry
from aggregator.parse.sanitize import web_link
from aggregator.render.common import (
    FeedMeta,
    as_utc,
    attachments,
    clean_html,
    entry_author,
    entry_id,
    entry_title,
)
from aggregator.text.chars import strip_control_chars
from aggregator.text.markup import inline_text

MEDIA_TYPE = "application/feed+json"
EXTENSION = "json"
VERSION = "https://jsonfeed.org/version/1.1"


def render_json_feed(meta: FeedMeta, entries: Sequence[StoredEntry]) -> bytes:
    """The feed as a JSON Feed document, UTF-8 encoded."""
    feed: dict[str, Any] = {
        "version": VERSION,
        "title": strip_control_chars(meta.title),
        "description": strip_control_chars(meta.description),
        "home_page_url": meta.home_url,
        "feed_url": meta.self_url(EXTENSION),
        "authors": [{"name": strip_control_chars(meta.title)}],
        "items": [_item(meta, entry) for entry in entries],
    }
    if meta.websub_hub:
        feed["hubs"] = [{"type": "WebSub", "url": meta.websub_hub}]
    return json.dumps(feed, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _item(meta: FeedMeta, entry: StoredEntry) -> dict[str, Any]:
    link = web_link(entry.link)
    item: dict[str, Any] = {
        "id": entry_id(entry),
        "title": entry_title(entry),
        "content_html": clean_html(entry.content, link),
        "date_published": _rfc3339(entry.published),
        "date_modified": _rfc3339(entry.updated),
        "tags": [
            strip_control_chars(meta.category_titles.get(slug, slug)) for slug in entry.categories
        ],
        # Custom extension (JSON Feed 1.1 §"Extensions"): every report merged into the entry.
        "_sources": {
            "about": f"{meta.base_url}/api/entries",
            "reports": [_report(report) for report in entry.reports],
        },
    }
    if link:
        item["url"] = link
    summary = inline_text(clean_html(entry.summary, link))
    if summary:
        item["summary"] = summary
    author = entry_author(entry)
    if author:
        item["authors"] = [{"name": author}]
    enclosures = [{"url": url, "mime_type": kind} for url, kind in attachments(entry)]
    if enclosures:
        item["attachments"] = enclosures
    return item


def _report(report: SourceReport) -> dict[str, Any]:
    return {
        "source": report.source_id,
        "title": strip_control_chars(report.title),
        "link": web_link(report.link),
        "published": _rfc3339(report.published),
    }


def _rfc3339(moment: datetime) -> str:
    return as_utc(moment).isoformat()
