"""One poll pass over some sources: fetch → parse → decide → fingerprint → store, per source.

`Poller.poll_source` is the pipeline for one source and reads as such; it runs on a
bounded thread pool (the fetcher limits each host), with parsing and fingerprinting in the
parse executor (worker processes in production, see `parsers`). Writes happen on the
calling thread, so the store sees one writer: the polls that finished while the last batch
was written go in one transaction, each behind its own savepoint. Whatever goes
wrong with one source, from a bug in a stage to a row the database refuses, ends that
source's poll as failing (retried on its backoff) and never the pass.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    BrokenExecutor,
    Executor,
    Future,
    ThreadPoolExecutor,
    wait,
)
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Protocol

from aggregator.alerts.websub import feed_pings
from aggregator.decide import plan_writes
from aggregator.dedupe import SourceBoilerplates, fingerprint_reports
from aggregator.fetch.fetcher import Fetcher
from aggregator.models import (
    Config,
    FetchResult,
    IndexDocument,
    KnownReport,
    ParsedFeed,
    PollOutcome,
    PollStatus,
    Report,
    Source,
    SourceFormat,
    SourceState,
    Validators,
    WriteCounts,
    WritePlan,
)
from aggregator.parse.feed import ParseError, parse_feed, parse_item_page
from aggregator.schedule.due import next_poll
from aggregator.schedule.parsers import ParseProcesses
from aggregator.search.document import report_documents
from aggregator.store import Store

log = logging.getLogger("aggregator.schedule.poll")

FETCH_THREADS = 16
# Sources fetched or waiting to be written at once: enough to keep every fetch thread busy;
# each finished poll holds its parsed feed and fingerprints (megabytes) until written.
IN_FLIGHT = FETCH_THREADS
# Item pages a poll of a `follow: true` source fetches; the source's other new items wait
# for its next polls, so one poll's time and requests to one site stay bounded.
MAX_FOLLOWS = 20


class Parse(Protocol):
    def __call__(
        self, body: bytes, *, content_type: str | None, url: str, fetched_at: datetime,
        timezone: str, source_format: SourceFormat,
    ) -> ParsedFeed: ...


Decide = Callable[[str, ParsedFeed, Mapping[str, KnownReport], datetime], WritePlan]
FingerprintReports = Callable[[Sequence[Report], frozenset[str]], tuple[bytes, ...]]
DocumentReports = Callable[[Sequence[Report]], tuple[IndexDocument, ...]]


@dataclass(frozen=True, slots=True)
class Stages:
    """The pure stages of a poll. Parse, fingerprint and document run in the parse
    executor, so with worker processes they must be module-level functions."""

    parse: Parse = parse_feed
    decide: Decide = plan_writes
    fingerprint: FingerprintReports = fingerprint_reports
    document: DocumentReports = report_documents


PRODUCTION_STAGES = Stages()


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


def _fingerprints_and_documents(
    stages: Stages, new: Sequence[Report], boilerplate: frozenset[str]
) -> tuple[tuple[bytes, ...], tuple[IndexDocument, ...]]:
    """Both in one trip to a parse process."""
    return stages.fingerprint(new, boilerplate), stages.document(new)


class SourceFailed(Exception):
    """A stage raised while one source was polled: that poll fails, the pass goes on."""

    def __init__(self, stage: str, error: Exception) -> None:
        super().__init__(
            f"internal error while {stage} ({type(error).__name__}): {error};"
            " the other sources were polled"
        )
        self.stage = stage
        self.error = error


@contextmanager
def _stage(name: str) -> Iterator[None]:
    try:
        yield
    except Exception as error:
        raise SourceFailed(name, error) from error


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Poller:
    """Polls sources of one configuration into one store. Reusable across passes.

    `parse_executor` runs parsing and fingerprinting (default: one process per core); the
    poller shuts it down when closed. `clock` says when next polls are counted from."""

    def __init__(
        self,
        config: Config,
        store: Store,
        fetcher: Fetcher,
        *,
        stages: Stages = PRODUCTION_STAGES,
        parse_executor: Executor | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._sources = {source.id: source for source in config.sources}
        self._store = store
        self._fetcher = fetcher
        self._stages = stages
        self._parsers = parse_executor or ParseProcesses()
        self._clock = clock
        self._boilerplates = SourceBoilerplates()
        self._pings = feed_pings(config)  # queued by the polls that change a feed
        self._threads = ThreadPoolExecutor(FETCH_THREADS, thread_name_prefix="fetch")

    def close(self) -> None:
        self._threads.shutdown(wait=True, cancel_futures=True)
        self._parsers.shutdown(wait=True, cancel_futures=True)

    def poll(
        self, states: Sequence[SourceState], progress: ProgressCallback | None = None
    ) -> PassSummary:
        summary = PassSummary()
        for finished in self._as_completed(states):
            for outcome, counts in self._write(finished):
                summary = summary.add(outcome, counts)
                if progress is not None:
                    try:
                        progress(outcome, counts)
                    except Exception as error:  # it was told of a poll that is written: log
                        log.exception("poll progress callback failed", extra={
                            "source": outcome.source_id, "exception": type(error).__name__})
        return summary

    def poll_source(self, source: Source, state: SourceState) -> PollOutcome:
        """One source from fetch to the outcome the store writes, its plan complete with
        the new reports' fingerprints. SourceFailed when a stage raises."""
        with _stage("fetching the feed"):  # the fetcher explains what it expects to fail
            result = self._fetcher.fetch(source.id, source.url, state.validators)
        if result.status == "error":
            return self._failed(source, state, result.error or "unknown error", result)
        if result.status == "not_modified":
            return self._healthy(source, result, "not_modified", state.body_hash)
        body = result.body or b""
        body_hash = hashlib.sha256(body).hexdigest()
        if body_hash == state.body_hash:
            return self._healthy(source, result, "unchanged_body", body_hash)  # nothing to parse

        with _stage("parsing the feed"):
            try:
                feed = self._parsers.submit(
                    self._stages.parse, body, content_type=result.content_type, url=result.url,
                    fetched_at=result.fetched_at, timezone=source.timezone,
                    source_format=source.format,
                ).result()
            except ParseError as error:
                return self._failed(source, state, str(error), result)
            except BrokenExecutor:
                return self._failed(source, state, "the parser crashed on this feed", result)
        with _stage("comparing its entries with the stored ones"):
            known = self._store.known_reports(source.id)
            plan = self._stages.decide(source.id, feed, known, result.fetched_at)
        with _stage("fetching its new items' own pages"):
            plan = self._followed(source, plan)
        with _stage("fingerprinting its new entries"):
            plan = self._fingerprinted(plan)
        return replace(
            self._healthy(source, result, "ok", body_hash),
            feed_title=feed.title, feed_link=feed.link, plan=plan,
        )

    def _followed(self, source: Source, plan: WritePlan) -> WritePlan:
        """An html source with `follow: true`: each new item's full text from its own page.
        Only new identities get here, so each page is fetched once; at most MAX_FOLLOWS a
        poll, the other new items wait for the next polls."""
        selector = source.format.content
        if not (source.format.follow and selector and plan.new):
            return plan
        taken, waiting = plan.new[:MAX_FOLLOWS], plan.new[MAX_FOLLOWS:]
        notes = plan.notes
        if waiting:
            notes += (
                f"{len(plan.new):,} new items to follow; a poll follows {MAX_FOLLOWS}, so "
                f"{len(waiting):,} wait for the next polls",
            )
        return replace(
            plan,
            new=tuple(self._follow(source, report, selector) for report in taken),
            deferred=plan.deferred + len(waiting),
            notes=notes,
        )

    def _follow(self, source: Source, report: Report, selector: str) -> Report:
        """The report with its page's full text; as the list page gave it when the page
        cannot be fetched or has no such element. The same fetcher, so the same rules
        (addresses, deadline, size, per-host limit) as the source's own URL."""
        if report.link is None:
            return report
        page = self._fetcher.fetch(source.id, report.link, Validators())
        if page.status != "ok" or not page.body:
            log.info("follow failed", extra={"source": source.id, "url": report.link,
                                             "error": page.error})
            return report
        item_page = self._parsers.submit(
            parse_item_page, page.body, content_type=page.content_type, url=page.url,
            selector=selector,
        ).result()
        if item_page is None:
            return report
        # The content hash stays the list item's: the next poll compares the list again.
        return replace(report, content=item_page.content,
                       summary=report.summary or item_page.content,
                       attachments=item_page.attachments)

    def _fingerprinted(self, plan: WritePlan) -> WritePlan:
        """The plan with its new reports' fingerprints (without their source's boilerplate)
        and search documents, computed in a parse process: on the writer thread they were
        half of the time spent writing."""
        if not plan.new:
            return plan
        boilerplate = self._boilerplates.of(
            plan.source_id, len(plan.new),
            lambda count: self._store.recent_texts(plan.source_id, count),
        )
        fingerprints, documents = self._parsers.submit(
            _fingerprints_and_documents, self._stages, plan.new, boilerplate
        ).result()
        return replace(plan, fingerprints=fingerprints, documents=documents)

    def _as_completed(
        self, states: Sequence[SourceState]
    ) -> Iterator[list[tuple[Source, SourceState, Future[PollOutcome]]]]:
        """The sources' polls, in batches of those that completed while the last batch was
        written. At most IN_FLIGHT sources are polled or waiting to be written at once:
        polling runs ahead of the one writer, and each finished poll holds its parsed feed
        and fingerprints until it is written."""
        waiting = ((self._sources[s.source_id], s) for s in states if s.source_id in self._sources)
        pending: dict[Future[PollOutcome], tuple[Source, SourceState]] = {}

        def submit(count: int) -> None:
            for source, state in itertools.islice(waiting, count):
                pending[self._threads.submit(self.poll_source, source, state)] = (source, state)

        submit(IN_FLIGHT)
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            submit(len(done))
            yield [(*pending.pop(future), future) for future in done]

    def _write(
        self, finished: Sequence[tuple[Source, SourceState, Future[PollOutcome]]]
    ) -> Iterator[tuple[PollOutcome, WriteCounts]]:
        """Write finished polls, each as soon as its batch commits. A source whose stage
        failed, or whose poll the store refuses (rolled back alone), has its failure
        written instead: a store that cannot take even that fails the pass."""
        polls: list[tuple[Source, SourceState, PollOutcome]] = []
        for source, state, polling in finished:
            try:
                polls.append((source, state, polling.result()))
            except SourceFailed as failure:
                polls.append((source, state, self._failed_at(source, state, failure)))
        yield from self._written(polls)

    def _written(
        self, polls: Sequence[tuple[Source, SourceState, PollOutcome]]
    ) -> Iterator[tuple[PollOutcome, WriteCounts]]:
        while polls:
            results: Sequence[WriteCounts | Exception]
            try:
                results = self._store.apply_polls([outcome for _, _, outcome in polls])
            except Exception as error:
                if len(polls) > 1:  # which poll? Each alone finds it, and writes the others.
                    for poll in polls:
                        yield from self._written([poll])
                    return
                results = [error]
            for (source, state, outcome), result in zip(polls, results, strict=False):
                if isinstance(result, Exception):
                    failure = SourceFailed("storing its entries", result)
                    outcome = self._failed_at(source, state, failure)
                    result = self._store.apply_poll(outcome)
                self._log(outcome, result)
                yield outcome, result
            polls = polls[len(results) :]

    def _failed_at(self, source: Source, state: SourceState, failure: SourceFailed) -> PollOutcome:
        log.error("poll failed", exc_info=failure.error, extra={
            "source": source.id, "stage": failure.stage,
            "exception": type(failure.error).__name__})
        return self._failed(source, state, str(failure))

    def _log(self, outcome: PollOutcome, counts: WriteCounts) -> None:
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

    def _healthy(
        self, source: Source, result: FetchResult, status: PollStatus, body_hash: str | None
    ) -> PollOutcome:
        return PollOutcome(
            source_id=source.id,
            attempted_at=result.fetched_at,
            status=status,
            elapsed_ms=result.elapsed_ms,
            http_status=result.http_status,
            validators=result.validators,
            body_hash=body_hash,
            pings=self._pings,
            next_poll=next_poll(interval=source.interval, status=status, failures=0,
                                now=self._clock()),
        )

    def _failed(
        self, source: Source, state: SourceState, error: str, result: FetchResult | None = None
    ) -> PollOutcome:
        now = self._clock()
        return PollOutcome(
            source_id=source.id,
            attempted_at=result.fetched_at if result else now,
            status="failed",
            elapsed_ms=result.elapsed_ms if result else 0,
            http_status=result.http_status if result else None,
            error=error,
            # Keep the validators and body hash of the last good response: a failure
            # says nothing about whether the feed changed, and its body must be read again.
            validators=state.validators,
            body_hash=state.body_hash,
            next_poll=next_poll(
                interval=source.interval,
                status="failed",
                failures=state.failures + 1,
                now=now,
                retry_after=result.retry_after if result else None,
            ),
        )
