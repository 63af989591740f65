"""The staff page `/sources`: every source's health at a glance, failing ones first, with
its silence (if any) and a chart of its last 30 days; and a page per source
(`/sources/<id>`) with the same, its last polls, its news and its feed, where signed-in
staff can have it polled now."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, redirect, render_template, request
from werkzeug.wrappers import Response

from aggregator.models import SourceHealth, SourceStatus
from aggregator.store import StoreError
from aggregator.web.activity import activity_views
from aggregator.web.auth import staff_action, staff_name
from aggregator.web.params import InvalidParameter
from aggregator.web.reasons import error_reason
from aggregator.web.sparkline import sparkline
from aggregator.web.state import current_state
from aggregator.web.templating import current_language, page_url

bp = Blueprint("staff", __name__)

# What needs a person's attention comes first.
_STATUS_ORDER: dict[SourceStatus, int] = {"failing": 0, "never": 1, "ok": 2}


@bp.get("/sources")
def sources() -> str:
    state = current_state()
    healths = sorted(state.store.source_health(), key=_attention_order)
    zone = ZoneInfo(state.config.settings.timezone)
    return render_template(
        "sources.html",
        sources=healths,
        activity=activity_views(state.store, state.clock(), zone),
        sparkline=sparkline,
        categories=state.config.categories,
        failing=sum(health.status == "failing" for health in healths),
        never=sum(health.status == "never" for health in healths),
    )


@bp.app_template_filter("reason")
def reason(error: str) -> str:
    """Why a poll failed, in the page's language."""
    return error_reason(error, current_language())


@bp.app_template_filter("duration")
def duration(elapsed_ms: int) -> str:
    """How long a poll took: '850 ms', '2.4 s'."""
    return f"{elapsed_ms} ms" if elapsed_ms < 1000 else f"{elapsed_ms / 1000:.1f} s"


@bp.get("/sources/<source_id>")
def source(source_id: str) -> str:
    state = current_state()
    health = known_source(source_id)
    zone = ZoneInfo(state.config.settings.timezone)
    return render_template(
        "source.html",
        source=health,
        activity=activity_views(state.store, state.clock(), zone),
        attempts=state.store.recent_attempts([source_id])[source_id],
        sparkline=sparkline,
        categories=state.config.categories,
        queued=request.args.get("queued") == "1",
    )


@bp.post("/sources/<source_id>/poll-now")
@staff_action
def poll_now(source_id: str) -> Response:
    """Due now: the running workers poll it on their next tick; this request only says so."""
    state = current_state()
    known_source(source_id)
    try:
        state.store.poll_now(source_id, staff_name() or "", state.clock())
    except StoreError as error:  # disabled in feeds.yaml: no worker polls it
        raise InvalidParameter(400, "error.cannot_poll", value=source_id) from error
    return redirect(page_url("staff.source", source_id=source_id, queued="1"))


def known_source(source_id: str) -> SourceHealth:
    """The health of the source `source_id`; a 404 when there is no such source."""
    health = next((h for h in current_state().store.source_health() if h.id == source_id), None)
    if health is None:
        raise InvalidParameter(404, "error.unknown_source", value=source_id)
    return health


def _attention_order(health: SourceHealth) -> tuple[int, int, str]:
    return (_STATUS_ORDER[health.status], -health.failures, health.id)
