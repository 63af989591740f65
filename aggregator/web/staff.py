"""The staff page `/sources`: every source's health at a glance, failing ones first, with
its silence (if any) and a chart of its last 30 days; and a page per source
(`/sources/<id>`) with the same, its news and its feed."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, render_template

from aggregator.models import SourceHealth, SourceStatus
from aggregator.web.activity import activity_views
from aggregator.web.params import InvalidParameter
from aggregator.web.sparkline import sparkline
from aggregator.web.state import current_state

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


@bp.get("/sources/<source_id>")
def source(source_id: str) -> str:
    state = current_state()
    health = next((h for h in state.store.source_health() if h.id == source_id), None)
    if health is None:
        raise InvalidParameter(404, "error.unknown_source", value=source_id)
    zone = ZoneInfo(state.config.settings.timezone)
    return render_template(
        "source.html",
        source=health,
        activity=activity_views(state.store, state.clock(), zone),
        sparkline=sparkline,
        categories=state.config.categories,
    )


def _attention_order(health: SourceHealth) -> tuple[int, int, str]:
    return (_STATUS_ORDER[health.status], -health.failures, health.id)
