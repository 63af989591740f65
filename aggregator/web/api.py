"""The JSON API: `/api/entries` (the river of news), `/api/sources` (their health) and
`/api/sources/<id>` (one source's health with its last polls)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, jsonify, request

from aggregator.models import PollAttempt, SourceHealth, StoredEntry
from aggregator.parse.sanitize import sanitize_html, web_link
from aggregator.web import params
from aggregator.web.activity import NO_ACTIVITY, activity_views, silence_json
from aggregator.web.responsecache import store_cached
from aggregator.web.staff import known_source
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


@bp.get("/sources/<source_id>")
def source(source_id: str) -> Response:
    state = current_state()
    health = known_source(source_id)
    zone = ZoneInfo(state.config.settings.timezone)
    activity = activity_views(state.store, datetime.now(UTC), zone)
    attempts = state.store.recent_attempts([source_id])[source_id]
    return jsonify(
        source_json(health)
        | {"silence": silence_json(activity.get(health.id, NO_ACTIVITY).silence)}
        | {"attempts": [attempt_json(attempt) for attempt in attempts]}
    )


def attempt_json(attempt: PollAttempt) -> dict[str, Any]:
    return {
        "attempted_at": rfc3339(attempt.attempted_at),
        "status": attempt.status,
        "new_reports": attempt.new_reports,
        "updated_reports": attempt.updated_reports,
        "http_status": attempt.http_status,
        "elapsed_ms": attempt.elapsed_ms,
        "error": attempt.error,
    }


def entry_json(entry: StoredEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "title": entry.title,
        "link": web_link(entry.link),
        "published": rfc3339(entry.published),
        # False: the source gave a day without a time; `published` is its midnight.
        "published_has_time": entry.published_has_time,
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
                "published_has_time": report.published_has_time,
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
