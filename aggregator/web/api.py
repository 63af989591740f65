"""The JSON API: `/api/entries` (the river of news) and `/api/sources` (their health)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, jsonify, request

from aggregator.models import SourceHealth, StoredEntry
from aggregator.parse.sanitize import sanitize_html, web_link
from aggregator.web import params
from aggregator.web.activity import NO_ACTIVITY, activity_views, silence_json
from aggregator.web.responsecache import store_cached
from aggregator.web.state import current_state
from aggregator.web.timefmt import rfc3339

bp = Blueprint("api", __name__, url_prefix="/api")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


@bp.get("/entries")
@store_cached
def entries() -> Response:
    state = current_state()
    page_size = params.limit(request.args, default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    page = params.river_request(request.args, state.config, page_size=page_size).page(state.store)
    return jsonify(entries=[entry_json(entry) for entry in page.entries], next=page.next_cursor)


@bp.get("/sources")
def sources() -> Response:
    state = current_state()
    zone = ZoneInfo(state.config.settings.timezone)
    activity = activity_views(state.store, datetime.now(UTC), zone)
    return jsonify(
        sources=[
            source_json(health)
            | {"silence": silence_json(activity.get(health.id, NO_ACTIVITY).silence)}
            for health in state.store.source_health()
        ]
    )


def entry_json(entry: StoredEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "title": entry.title,
        "link": web_link(entry.link),
        "published": rfc3339(entry.published),
        "updated": rfc3339(entry.updated),
        # Sanitised by the parser already; again here because API clients insert it as HTML.
        "summary": sanitize_html(entry.summary),
        "content": sanitize_html(entry.content),
        "categories": list(entry.categories),
        "sources": [
            {
                "source": report.source_id,
                "title": report.title,
                "link": web_link(report.link),
                "published": rfc3339(report.published),
            }
            for report in entry.reports
        ],
    }


def source_json(health: SourceHealth) -> dict[str, Any]:
    return {
        "id": health.id,
        "title": health.title,
        "url": health.url,
        "categories": list(health.categories),
        "status": health.status,
        "last_attempt": _optional_time(health.last_attempt),
        "last_success": _optional_time(health.last_success),
        "last_error": health.last_error,
        "failures": health.failures,
        "entries": health.entries,
        "next_poll": _optional_time(health.next_poll),
        "notes": list(health.notes),
    }


def _optional_time(moment: datetime | None) -> str | None:
    return None if moment is None else rfc3339(moment)
