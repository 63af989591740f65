"""The Prometheus text exposition (format 0.0.4) of the poll counters and source health."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from aggregator.models import (
    ENTRIES,
    LATENCY_COUNT,
    LATENCY_SUM_MS,
    MERGES,
    POLLS,
    CacheCounts,
    PollStats,
    PollStatus,
    SourceHealth,
)

POLL_STATUSES: tuple[PollStatus, ...] = ("ok", "not_modified", "unchanged_body", "failed")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
NO_CACHE = CacheCounts()


def exposition(
    stats: PollStats, healths: Sequence[SourceHealth], cache: CacheCounts = NO_CACHE
) -> str:
    """Poll counters and source health come from the database (every process tells the
    same); the response cache's figures are this web process's own."""
    lines: list[str] = []
    _family(
        lines,
        "aggregator_polls_total",
        "counter",
        "Polls of sources, by outcome.",
        ((f'{{status="{s}"}}', stats.value(POLLS, s)) for s in POLL_STATUSES),
    )
    _family(
        lines,
        "aggregator_entries_total",
        "counter",
        "Entries written by polls: new stories and updates.",
        ((f'{{kind="{k}"}}', stats.value(ENTRIES, k)) for k in ("new", "updated")),
    )
    _family(
        lines,
        "aggregator_merges_total",
        "counter",
        "Reports merged into an entry that another source reported.",
        [("", stats.value(MERGES))],
    )
    lines += [
        "# HELP aggregator_fetch_duration_seconds Time to fetch a source's feed.",
        "# TYPE aggregator_fetch_duration_seconds histogram",
        *(
            f'aggregator_fetch_duration_seconds_bucket{{le="{bound}"}} {count}'
            for bound, count in stats.latency_buckets()
        ),
        f"aggregator_fetch_duration_seconds_sum {stats.value(LATENCY_SUM_MS) / 1000:g}",
        f"aggregator_fetch_duration_seconds_count {stats.value(LATENCY_COUNT)}",
    ]
    _family(
        lines,
        "aggregator_source_failures",
        "gauge",
        "Consecutive failed polls of each source (0 when its last poll worked).",
        ((_source_label(h), h.failures) for h in healths),
    )
    _family(
        lines,
        "aggregator_source_up",
        "gauge",
        "1 when a source's last poll worked, 0 when it failed or never ran.",
        ((_source_label(h), int(h.status == "ok")) for h in healths),
    )
    for name, kind, help_text, value in (
        ("hits_total", "counter", "Answers replayed from this process's response cache.",
         cache.hits),
        ("misses_total", "counter", "Requests the response cache passed to the app.",
         cache.misses),
        ("evictions_total", "counter", "Answers dropped to keep the cache within its bound.",
         cache.evictions),
        ("bytes", "gauge", "Bytes of answers the response cache holds.", cache.bytes),
        ("max_bytes", "gauge", "The response cache's bound (AGGREGATOR_CACHE_MB).",
         cache.max_bytes),
    ):
        _family(lines, f"aggregator_response_cache_{name}", kind, help_text, [("", value)])
    return "\n".join(lines) + "\n"


def _family(
    lines: list[str], name: str, kind: str, help_text: str, samples: Iterable[tuple[str, int]]
) -> None:
    lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    lines += [f"{name}{labels} {value}" for labels, value in samples]


def _source_label(health: SourceHealth) -> str:
    return f'{{source="{_escape(health.id)}"}}'


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
