"""Each source's header and footer, learnt from its recent texts and kept between polls."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from aggregator.dedupe.boilerplate import learn_boilerplate

# A source's header and footer are learnt from its latest texts once there are enough of them
# (fewer would mistake a series of template releases for boilerplate), and relearnt as it
# publishes more.
BOILERPLATE_SAMPLE = 50
BOILERPLATE_MIN_SAMPLE = 20
BOILERPLATE_RELEARN_AFTER = 200

RecentTexts = Callable[[int], Sequence[str]]  # the source's latest texts, at most this many


class SourceBoilerplates:
    """What each source repeats on every entry, to strip before fingerprinting its new
    reports. Safe to use from the poller's fetch threads."""

    def __init__(self) -> None:
        self._learnt: dict[str, tuple[frozenset[str], int]] = {}
        self._lock = threading.Lock()

    def of(self, source_id: str, arriving: int, recent: RecentTexts) -> frozenset[str]:
        """The boilerplate of `source_id`, which is about to add `arriving` reports;
        `recent` reads its latest texts when the boilerplate is (re)learnt."""
        with self._lock:
            learnt, since = self._learnt.get(source_id, (frozenset(), BOILERPLATE_RELEARN_AFTER))
        if since >= BOILERPLATE_RELEARN_AFTER:
            # Learnt outside the lock: `recent` reads the store. Two threads polling one
            # source at once (not something the poller does) would only learn it twice.
            texts = recent(BOILERPLATE_SAMPLE)
            if len(texts) >= BOILERPLATE_MIN_SAMPLE:
                learnt = learn_boilerplate(texts)
            since = 0
        with self._lock:
            self._learnt[source_id] = (learnt, since + arriving)
        return learnt
