"""Each source's recent activity for the staff views: its silence verdict and its chart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from aggregator.alerts.activity import WINDOW, daily_counts
from aggregator.alerts.silence import judge_silence
from aggregator.models import Silence, SourceActivity
from aggregator.store import Store
from aggregator.store.alerts import AlertStore
from aggregator.web.timefmt import rfc3339


@dataclass(frozen=True, slots=True)
class ActivityView:
    silence: Silence
    per_day: list[int]  # the last 30 days, oldest first


# For a source that appeared between two reads of one request.
NO_ACTIVITY = ActivityView(Silence(None), [0] * 30)


def activity_views(store: Store, now: datetime, zone: tzinfo) -> dict[str, ActivityView]:
    """Every source's activity, by source id."""
    return {
        source_id: _view(activity, now, zone)
        for source_id, activity in AlertStore(store).activities(now - WINDOW).items()
    }


def _view(activity: SourceActivity, now: datetime, zone: tzinfo) -> ActivityView:
    return ActivityView(judge_silence(activity, now), daily_counts(activity.arrivals, now, zone))


def silence_json(silence: Silence) -> dict[str, object]:
    """The `silence` field of a source in `/api/sources`."""
    return {
        "silent": silence.silent,
        "reason": silence.reason,
        "since": None if silence.since is None else rfc3339(silence.since),
        "usual_gap_hours": (
            None
            if silence.usual_gap is None
            else round(silence.usual_gap.total_seconds() / 3600, 1)
        ),
    }
