"""WebSub publishing: the hub (`settings.websub_hub`) is told which output feeds changed.

A poll that changes what a category feed (or `all`) shows queues, in its own transaction,
one ping per URL of that feed (`hub.mode=publish&hub.url=<feed URL>`, one URL per
request, every format), and the outbox delivers them like webhooks (`alerts.outbox`). A
ping still waiting for the sender covers every later change too (the hub fetches the feed
as it is then), so a busy pass sends each feed's pings about once per outbox round.
"""

from __future__ import annotations

from urllib.parse import urlencode

from aggregator.models import Config, FeedPings, OutboundPost
from aggregator.render import ALL_CATEGORIES, FORMATS

FORM = "application/x-www-form-urlencoded"


def feed_pings(config: Config) -> FeedPings | None:
    """Every output feed's pings, or None when no hub is configured."""
    hub, base = config.settings.websub_hub, config.settings.base_url
    if hub is None or base is None:  # the configuration requires both or neither
        return None

    def pings(feed: str) -> tuple[OutboundPost, ...]:
        return tuple(
            OutboundPost(hub, urlencode({"hub.mode": "publish", "hub.url": url}), FORM)
            for url in feed_urls(base, feed)
        )

    return FeedPings(
        all_feed=pings(ALL_CATEGORIES),
        by_category={slug: pings(slug) for slug in config.categories},
    )


def feed_urls(base_url: str, feed: str) -> list[str]:
    """The public URLs of `feed` (a category slug or `all`) in every format."""
    return [f"{base_url.rstrip('/')}/feeds/{feed}.{extension}" for extension in FORMATS]
