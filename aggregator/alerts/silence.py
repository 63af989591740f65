"""Is a source silent? Judged from its own history, not from one rule for every source.

A city government that posts forty items a day is worrying after six quiet hours; a
district office that posts twice a week is not. So each source's usual gap between
arrivals is learned from its last 30 days (`activity.WINDOW`), and the source is flagged
when its current silence is far longer than that: `QUIET_FACTOR` times the gap that only
one in ten of its gaps exceeds (a high percentile, so nights and weekends count as usual).

Three kinds of silence:
- `quiet`: enough history to know the cadence, and silent far beyond it;
- `no_new`: the source answers but has brought nothing new for `NO_NEW_LIMIT`, whatever
  its cadence (also covers a source with too little history to learn one);
- `html`: the latest poll got an HTML page instead of a feed (a moved feed, a login
  wall, a maintenance page), which the parser reports in words that say so.
A failing source (timeouts, 404s) is not "silent": `/sources` already shows it failing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from itertools import pairwise

from aggregator.models import Silence, SourceActivity

QUIET_FACTOR = 3
USUAL_GAP_PERCENTILE = 0.9
MIN_GAPS = 5  # fewer gaps than this say nothing about a cadence
MIN_QUIET = timedelta(hours=6)  # never flag a shorter silence, however busy the source
NO_NEW_LIMIT = timedelta(days=7)
# How the parser words a response that is a web page (aggregator/parse/feed.py).
HTML_ERROR_MARK = "returned an HTML page"


def judge_silence(activity: SourceActivity, now: datetime) -> Silence:
    usual = usual_gap(activity)
    if activity.last_error is not None:
        if HTML_ERROR_MARK in activity.last_error:
            return Silence("html", activity.last_success, usual)
        return Silence(None, usual_gap=usual)
    quiet_since = activity.last_arrival
    if quiet_since is None:
        return Silence(None, usual_gap=usual)
    quiet_for = now - quiet_since
    if usual is not None and quiet_for > max(QUIET_FACTOR * usual, MIN_QUIET):
        return Silence("quiet", quiet_since, usual)
    if activity.last_success is not None and quiet_for > NO_NEW_LIMIT:
        return Silence("no_new", quiet_since, usual)
    return Silence(None, usual_gap=usual)


def usual_gap(activity: SourceActivity) -> timedelta | None:
    """The source's usual longest gap between arrivals, or None with too few to tell."""
    times = [arrival.at for arrival in activity.arrivals]
    gaps = [later - earlier for earlier, later in pairwise(times)]
    if len(gaps) < MIN_GAPS:
        return None
    return _percentile(sorted(gaps), USUAL_GAP_PERCENTILE)


def _percentile(ordered: Sequence[timedelta], fraction: float) -> timedelta:
    """The nearest-rank percentile of sorted values."""
    rank = max(math.ceil(fraction * len(ordered)), 1)
    return ordered[rank - 1]
