"""Brief builders of the values the store takes, for tests: `source`, `report`, `outcome`.

Every field has a plain default so a test names only what it is about.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from aggregator.dedupe import fingerprint_reports
from aggregator.models import PollOutcome, PollStatus, Report, Source, WritePlan
from aggregator.schedule.poll import FingerprintReports

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


def source(source_id: str, *, categories: Sequence[str] = ("news",), **fields: Any) -> Source:
    values: dict[str, Any] = {
        "url": f"http://127.0.0.1:9/{source_id}.xml",
        "interval": timedelta(minutes=15),
        "timezone": "Asia/Taipei",
    }
    return Source(id=source_id, categories=tuple(categories), **(values | fields))


def report(source_id: str, identity: str, **fields: Any) -> Report:
    """A report; `link` defaults to one derived from the identity, `canonical_link` to `link`."""
    link = fields.pop("link", f"http://news.example/{source_id}/{identity}")
    title = fields.pop("title", f"{source_id} {identity}")
    content = fields.pop("content", f"<p>{title}</p>")
    published = fields.pop("published", T0)
    values: dict[str, Any] = {
        "canonical_link": link,
        "summary": content,
        "updated": published,
        "content_hash": hashlib.sha256(f"{title}\n{content}".encode()).hexdigest(),
    }
    return Report(
        source_id=source_id,
        identity=identity,
        title=title,
        link=link,
        content=content,
        published=published,
        **(values | fields),
    )


def outcome(
    source_id: str,
    new: Sequence[Report] = (),
    changed: Sequence[Report] = (),
    *,
    status: PollStatus = "ok",
    attempted_at: datetime = T0,
    unchanged: int = 0,
    fingerprint: FingerprintReports = fingerprint_reports,
    **fields: Any,
) -> PollOutcome:
    """A poll outcome; a failed one carries no write plan. The new reports are fingerprinted
    with `fingerprint`, by default as the poller does (without learnt boilerplate)."""
    plan = None
    if status != "failed":
        plan = WritePlan(source_id, new=tuple(new), changed=tuple(changed), unchanged=unchanged,
                         fingerprints=fingerprint(new, frozenset()))
    values: dict[str, Any] = {
        "elapsed_ms": 12,
        "next_poll": attempted_at + timedelta(minutes=15),
        "http_status": 200 if status == "ok" else None,
        "error": "connection refused" if status == "failed" else None,
    }
    return PollOutcome(
        source_id=source_id,
        attempted_at=attempted_at,
        status=status,
        plan=plan,
        **(values | fields),
    )
