"""Poll every source of a configuration once, as the worker would, parsing in this thread."""

from __future__ import annotations

from datetime import datetime

from aggregator.fetch.fetcher import Fetcher
from aggregator.models import Config
from aggregator.schedule.poll import Poller
from aggregator.store import Store
from tests.inline import InlineExecutor


def poll_once(
    config: Config, store: Store, now: datetime, fetcher: Fetcher | None = None
) -> None:
    store.sync_sources(config.sources, now)
    poller = Poller(
        config, store, fetcher or Fetcher(allow_private_addresses=True, timeout=5.0),
        parse_executor=InlineExecutor(), clock=lambda: now,
    )
    try:
        poller.poll(store.due_sources(now, include_not_due=True))
    finally:
        poller.close()
