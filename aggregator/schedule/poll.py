"""One poll pass over some sources: fetch → parse → decide → store, per source.

Each source is fetched, parsed, decided and fingerprinted on a bounded thread pool (the
fetcher limits each host). Parsing and fingerprinting run in worker processes, because
both are pure Python and hold the GIL: in this process, one large feed would stall every
fetch and the scheduler, and the writer would have one core for all of it. Writes happen
on the calling thread, one transaction per source, so the store sees one writer and a
failing source never touches another's data.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import multiprocessing
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from aggregator.alerts.websub import feed_pings
from aggregator.decide import plan_writes
from aggregator.dedupe import fingerprint_reports
from aggregator.fetch.fetcher import Fetcher
from aggregator.models import (
    Config,
    FetchResult,
    ParsedFeed,
    PollOutcome,
    PollStatus,
    Source,
    SourceState,
    WriteCounts,
    WritePlan,
)
from aggregator.parse.feed import ParseError, parse_feed
from aggregator.schedule.due import next_poll
from aggregator.store import Store

log = logging.getLogger("aggregator.schedule.poll")

FETCH_THREADS = 16
# Sources fetched or waiting to be written at once: enough to keep every fetch thread busy;
# each finished poll holds its parsed feed and fingerprints (megabytes) until written.
IN_FLIGHT = FETCH_THREADS
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Fetched:
    """What the fetch thread hands back: the response and, if it was parsed, the feed."""

    result: FetchResult
    body_hash: str | None = None
    feed: ParsedFeed | None = None
    plan: WritePlan | None = None  # what writing the feed would change, fingerprinted
    parse_error: str | None = None


@dataclass(frozen=True, slots=True)
class PassSummary:
    ok: int = 0
    not_modified: int = 0
    failed: int = 0
    new: int = 0
    updated: int = 0
    merged: int = 0

    def add(self, outcome: PollOutcome, counts: WriteCounts) -> PassSummary:
        return replace(
            self,
            ok=self.ok + (outcome.status in ("ok", "unchanged_body")),
            not_modified=self.not_modified + (outcome.status == "not_modified"),
            failed=self.failed + (outcome.status == "failed"),
            new=self.new + counts.new,
            updated=self.updated + counts.updated,
            merged=self.merged + counts.merged,
        )


ProgressCallback = Callable[[PollOutcome, WriteCounts], None]


class Poller:
    """Polls sources of one configuration into one store. Reusable across passes."""

    def __init__(self, config: Config, store: Store, fetcher: Fetcher) -> None:
        self._sources = {source.id: source for source in config.sources}
        self._store = store
        self._fetcher = fetcher
        self._pings = feed_pings(config)  # queued by the polls that change a feed
        self._threads = ThreadPoolExecutor(FETCH_THREADS, thread_name_prefix="fetch")
        self._parsers: ProcessPoolExecutor | None = None
        self._parsers_lock = threading.Lock()  # fetch threads ask for the pool at once

    def close(self) -> None:
        self._threads.shutdown(wait=True, cancel_futures=True)
        with self._parsers_lock:
            parsers, self._parsers = self._parsers, None
        if parsers is not None:
            parsers.shutdown(wait=True, cancel_futures=True)

    def poll(
        self, states: Sequence[SourceState], progress: ProgressCallback | None = None
    ) -> PassSummary:
        summary = PassSummary()
        for outcome in self._outcomes(states):
            counts = self._write(outcome)
            summary = summary.add(outcome, counts)
            if progress is not None:
                progress(outcome, counts)
        return summary

    def _outcomes(self, states: Sequence[SourceState]) -> Iterator[PollOutcome]:
        """Each source's outcome as its fetch completes. At most IN_FLIGHT sources are
        fetched or waiting to be written at once: fetching runs ahead of the one writer, and
        each finished poll holds its parsed feed and fingerprints until it is written."""
        waiting = ((self._sources[s.source_id], s) for s in states if s.source_id in self._sources)
        pending: dict[Future[Fetched], tuple[Source, SourceState]] = {}

        def submit(count: int) -> None:
            for source, state in itertools.islice(waiting, count):
                pending[self._threads.submit(self._fetch, source, state)] = (source, state)

        submit(IN_FLIGHT)
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            submit(len(done))
            for future in done:
                source, state = pending.pop(future)
                now = datetime.now(UTC)
                try:
                    yield self._outcome(source, state, future.result(), now)
                except Exception as error:  # a bug on one source must not stop the pass
                    log.exception("poll failed", extra={"source": source.id})
                    yield _failed(source, state, now, f"internal error: {error}")

    def _fetch(self, source: Source, state: SourceState) -> Fetched:
        result = self._fetcher.fetch(source.id, source.url, state.validators)
        if result.status != "ok" or result.body is None:
            return Fetched(result)
        body_hash = hashlib.sha256(result.body).hexdigest()
        if body_hash == state.body_hash:
            return Fetched(result, body_hash=body_hash)  # byte-identical: nothing to parse
        try:
            feed = self._in_parser(
                parse_feed,
                result.body,
                content_type=result.content_type,
                url=result.url,
                fetched_at=result.fetched_at,
                timezone=source.timezone,
            )
            plan = plan_writes(source.id, feed, self._store.known_reports(source.id),
                               result.fetched_at)
            plan = self._fingerprinted(plan)
        except ParseError as error:
            return Fetched(result, body_hash=body_hash, parse_error=str(error))
        return Fetched(result, body_hash=body_hash, feed=feed, plan=plan)

    def _fingerprinted(self, plan: WritePlan) -> WritePlan:
        """The plan with its new reports' fingerprints, computed in a parse process: on
        the writer thread they were a third of the time spent writing a new report."""
        if not plan.new:
            return plan
        boilerplate = self._store.boilerplate(plan.source_id, len(plan.new))
        if boilerplate is None:
            return plan
        return replace(plan, fingerprints=self._in_parser(fingerprint_reports, plan.new,
                                                          boilerplate))

    def _in_parser(self, function: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        """Run `function` in a parse process; ParseError if that process dies (memory?)."""
        parsers = self._parse_pool()
        try:
            return parsers.submit(function, *args, **kwargs).result()
        except BrokenProcessPool as error:
            self._replace_broken(parsers)
            raise ParseError("the parser crashed on this feed") from error

    def _parse_pool(self) -> ProcessPoolExecutor:
        with self._parsers_lock:
            if self._parsers is None:
                # forkserver: forking this process while fetch threads run could
                # copy a held lock into the child.
                context = multiprocessing.get_context("forkserver")
                self._parsers = ProcessPoolExecutor(max_workers=multiprocessing.cpu_count(),
                                                    mp_context=context)
            return self._parsers

    def _replace_broken(self, broken: ProcessPoolExecutor) -> None:
        """Drop a pool whose process died; the next parse starts a fresh one. Several
        threads see the same breakage: only the first drops it."""
        with self._parsers_lock:
            if self._parsers is broken:
                self._parsers = None
        broken.shutdown(wait=False, cancel_futures=True)

    def _outcome(
        self, source: Source, state: SourceState, fetched: Fetched, now: datetime
    ) -> PollOutcome:
        result = fetched.result
        if result.status == "error":
            return _failed(source, state, now, result.error or "unknown error",
                           result=result)
        if fetched.parse_error is not None:
            return _failed(source, state, now, fetched.parse_error, result=result)
        feed = fetched.feed
        status: PollStatus = "ok"
        if result.status == "not_modified":
            status = "not_modified"
        elif feed is None:
            status = "unchanged_body"
        return PollOutcome(
            source_id=source.id,
            attempted_at=result.fetched_at,
            status=status,
            elapsed_ms=result.elapsed_ms,
            http_status=result.http_status,
            validators=result.validators,
            body_hash=state.body_hash if status == "not_modified" else fetched.body_hash,
            feed_title=feed.title if feed else None,
            feed_link=feed.link if feed else None,
            plan=fetched.plan,
            pings=self._pings,
            next_poll=next_poll(interval=source.interval, status=status, failures=0, now=now),
        )

    def _write(self, outcome: PollOutcome) -> WriteCounts:
        counts = self._store.apply_poll(outcome)
        plan = outcome.plan
        log.info(
            "poll",
            extra={
                "source": outcome.source_id,
                "status": outcome.status,
                "http": outcome.http_status,
                "new": counts.new,
                "updated": counts.updated,
                "merged": counts.merged,
                "unchanged": plan.unchanged if plan else 0,
                "ms": outcome.elapsed_ms,
                "error": outcome.error,
            },
        )
        return counts


def _failed(
    source: Source,
    state: SourceState,
    now: datetime,
    error: str,
    *,
    result: FetchResult | None = None,
) -> PollOutcome:
    failures = state.failures + 1
    return PollOutcome(
        source_id=source.id,
        attempted_at=result.fetched_at if result else now,
        status="failed",
        elapsed_ms=result.elapsed_ms if result else 0,
        http_status=result.http_status if result else None,
        error=error,
        # Keep the validators and body hash of the last good response: a failure
        # says nothing about whether the feed changed.
        validators=state.validators,
        body_hash=state.body_hash,
        next_poll=next_poll(
            interval=source.interval,
            status="failed",
            failures=failures,
            now=now,
            retry_after=result.retry_after if result else None,
        ),
    )
