"""The worker's alerting duty: match new entries against the watches and judge every
source's silence. The worker's scheduler runs it every `schedule.worker.ALERTING_EVERY`;
what it decides is queued in the outbox (`alerts.outbox`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from aggregator.alerts.activity import WINDOW
from aggregator.alerts.silence import judge_silence
from aggregator.alerts.watch import WatchRule, scan_matches
from aggregator.models import Config
from aggregator.store import Store
from aggregator.store.alerts import AlertStore


class Alerting:
    def __init__(self, config: Config, store: Store) -> None:
        self.alerts = AlertStore(store)
        self._rules = [WatchRule.of(watch) for watch in config.watches]
        self._silence_webhooks = silence_webhooks(config)

    def check(self, now: datetime) -> None:
        """Match the entries that arrived since the last check, and judge silence."""
        scan_watches(self.alerts, self._rules, now)
        verdicts = {
            source_id: judge_silence(activity, now)
            for source_id, activity in self.alerts.activities(now - WINDOW).items()
        }
        self.alerts.record_silences(verdicts, self._silence_webhooks, now)


def scan_watches(alerts: AlertStore, rules: Sequence[WatchRule], now: datetime) -> int:
    """Match the entries that arrived since the last scan against every watch, and record
    the new matches (queueing their webhooks); how many were new."""
    if not rules:
        return 0
    scan = alerts.watch_scan([rule.watch.name for rule in rules], now)
    return alerts.record_watch_scan([rule.watch for rule in rules], scan_matches(rules, scan), now)


def silence_webhooks(config: Config) -> dict[str, tuple[str, ...]]:
    """Where each source's silence is announced: the webhooks of the watches that cover
    it (a watch without categories covers every source). The staff who watch a category
    are the ones who need to know that one of its sources went quiet."""
    return {
        source.id: tuple(
            watch.webhook
            for watch in config.watches
            if watch.webhook and (not watch.categories
                                  or set(watch.categories) & set(source.categories))
        )
        for source in config.sources
    }
