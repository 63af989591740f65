"""How the web layer writes moments: RFC 3339 for machines, local wall time for people."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def local_time(moment: datetime, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")
