"""The worker's alerting duties: after each poll pass, match new entries against the
watches and judge every source's silence; meanwhile, deliver webhooks on their own thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from aggregator.alerts.activity import WINDOW
from aggregator.alerts.silence import judge_silence
from aggregator.alerts.watch import WatchRule, scan_matches
from aggregator.alerts.webhook import WebhookSender
from aggregator.fetch.netpolicy import AddressPolicy
from aggregator.models import Config
from aggregator.store import Store
from aggregator.store.alerts import AlertStore

# The worker ticks every second; watches and silence need not look that often (the silence
# judgement reads 30 days of arrivals).
EVERY = timedelta(seconds=30)


class Alerting:
    def __init__(self, config: Config, store: Store) -> None:
        self.alerts = AlertStore(store)
        self._rules = [WatchRule.of(watch) for watch in config.watches]
        self._silence_webhooks = silence_webhooks(config)
        policy = AddressPolicy.build(allow_private=config.settings.allow_private_addresses)
        self.sender = WebhookSender(self.alerts, policy)
        self._last_run: datetime | None = None

    def after_pass(self, now: datetime) -> None:
        """Match new entries and judge silence, at most once per `EVERY`."""
        if self._last_run is not None and now - self._last_run < EVERY:
            return
        self._last_run = now
        scan_watches(self.alerts, self._rules, now)
        verdicts = {
            source_id: judge_silence(activity, now)
            for source_id, activity in self.alerts.activities(now - WINDOW).items()
        }
        self.alerts.record_silences(verdicts, self._silence_webhooks, now)

    def start(self) -> None:
        self.sender.start()

    def stop(self) -> None:
        self.sender.stop()


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
