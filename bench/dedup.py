"""Near-duplicate merging on the labelled sets: pairwise precision, recall and F1, per kind,
and what a fingerprint costs; then what merging costs the real ingest pipeline.

    python bench/dedup.py [--entries 100000] [--sources 100] [--batch 50] [--set tuning]
                          [--corpora ../shared/corpora]

The labelled sets, the tuning set tests/data/dedup/ and the blind sets
tests/data/dedup-blind/, dedup-blind-2/ and dedup-blind-3/ (never tuned on), are written
through a fresh SQLite store in several arrival orders (publication, its reverse, three seeded
shuffles), each report its own poll of its source, and scored pairwise: overall, on pairs
involving an edited rewrite or a wire flash, and per kind. `--entries 0` stops after the
scores; `--set tuning` scores the tuning set alone, so that tuning never sees the blind
sets' figures.

`--corpora DIR` counts false merges on feeds nobody labelled: every feed file under DIR
(other projects' test feeds) is parsed as its own source, every entry fingerprinted and
dated alike (so the time window spares no pair), and every pair of entries of two files
that share a band key is decided. Entries of two different feeds are almost never one
story: each merge is counted, by rule, as false.

The ingest part measures the product end to end, not the store alone: it generates
`--entries` reports (random CJK text; every tenth is another source's lightly reworded copy
of the report before it, with its own link, so only near-duplicate merging can join them),
serves them as RSS from 127.0.0.1 in a separate process, and polls them with
`aggregator.schedule.poll.Poller` (fetch threads, the forkserver parse processes, one writer thread)
into a fresh SQLite store, with merging off and then on. In pass k each source's feed holds
its next `--batch` reports; every body is new, so nothing is skipped as unchanged. The
server renders a pass's feeds before the pass is timed. An untimed warm-up pass of empty
feeds starts the parse processes first. Work the pipeline moves off the writer thread (into
the parse processes, in parallel with the writes) shows here, where calling
`Store.apply_poll` directly could not see it.

Prints, per mode: seconds, reports/s overall and over the first and last tenth of the
passes (candidate lookup must not slow as the store fills), how much of that the writer
thread spent in `apply_poll`, and entries and reports stored (with merging on, entries
should be about 90% of reports: exits 1 if not, or if reports went missing). Progress goes
to stderr. Only the time in `Poller.poll` is timed; on a shared machine it is noisy, so
compare runs made back to back.

Targets ("One story, one entry"), on both sets: pairwise precision ≥ 0.98, recall ≥ 0.95
overall and ≥ 0.90 on pairs involving a rewrite or a flash; a fingerprint well under 1 ms
for a 1-2 KB article; merging adds under 1.5x to the ingest time, and ingest in the last
tenth is within 15% of the first tenth.
"""

from __future__ import annotations

import argparse
import itertools
import math
import multiprocessing
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from types import TracebackType

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select

from aggregator.config.load import config_from_text
from aggregator.dedupe import Candidate, explain_merge, fingerprint
from aggregator.dedupe.decision import NEAR_IDENTICAL
from aggregator.fetch.fetcher import Fetcher
from aggregator.models import Config, PollOutcome, WriteCounts
from aggregator.parse.feed import parse_feed
from aggregator.parse.raw import ParseError
from aggregator.schedule.poll import FETCH_THREADS, PRODUCTION_STAGES, Poller, Stages
from aggregator.store import Store, StoreError, make_engine, open_store
from aggregator.store.migrate import upgrade
from aggregator.store.schema import entries as entries_table
from aggregator.store.schema import reports as reports_table
from aggregator.text.story import story_text
from bench.exact_links import fingerprints_without_band_keys
from bench.feedhttp import Served, feed_server
from tests.dedup_corpus import (
    ARRIVAL_ORDERS,
    BLIND_DIRS,
    CORPUS_DIR,
    Item,
    ingest_polls,
    load_items,
    pair_counts,
)
from tests.feedbuilder import FeedItem, rss

REPEATS = 20


def fingerprint_microseconds(texts: list[tuple[str, str]]) -> list[float]:
    """The cost of each fingerprint, best of REPEATS, in µs."""
    costs = []
    for title, text in texts:
        best = float("inf")
        for _ in range(REPEATS):
            start = time.perf_counter()
            fingerprint(title, text)
            best = min(best, time.perf_counter() - start)
        costs.append(best * 1e6)
    return costs


SCORED_ORDERS = [
    "publication", "reverse of publication", "shuffled (seed 1)", "shuffled (seed 2)",
    "shuffled (seed 3)",
]


def print_scores_through_the_store(folder: Path) -> None:
    """The labelled set of `folder` written through a fresh store in each SCORED_ORDERS
    order, scored pairwise."""
    items = list(load_items(folder).values())
    print(f"\n{folder.name}: {len(items)} reports, {len({item.story for item in items})} stories")
    for order in SCORED_ORDERS:
        with tempfile.TemporaryDirectory() as directory:
            url = f"sqlite:///{Path(directory) / 'store.db'}"
            upgrade(url)
            store = open_store(url)
            try:
                entry_of = ingest_polls(store, ARRIVAL_ORDERS[order](items))
            finally:
                store.close()
        counts = pair_counts(items, entry_of)
        print(f"\n  order: {order}, {len(set(entry_of.values()))} entries")
        print(f"  {'kind':26} {'precision':>9} {'recall':>7} {'F1':>6}   TP   FP   FN  kept apart")
        named = ["all", "rewrite or flash"]
        for kind in [*named, *sorted(kind for kind in counts if kind not in named)]:
            if kind not in counts:
                continue
            c = counts[kind]
            print(f"  {kind:26} {c.precision:9.3f} {c.recall:7.3f} {c.f1:6.3f} "
                  f"{c.true_positive:4} {c.false_positive:4} {c.false_negative:4} "
                  f"{c.true_negative:11}")


def print_false_merges_across_feeds(folder: Path) -> None:
    """Parse every feed under `folder` as its own source and count the pairs of entries of
    two files that the decision merges."""
    when = datetime(2025, 1, 1, tzinfo=UTC)
    candidates: list[Candidate] = []
    for path in sorted(folder.rglob("*")):
        if path.suffix not in (".xml", ".json", ".rss", ".atom", ".rdf"):
            continue
        try:
            feed = parse_feed(path.read_bytes(), content_type=None, url=f"file:///{path.name}",
                              fetched_at=when, timezone="UTC")
        except ParseError:
            continue
        for number, entry in enumerate(feed.entries):
            candidates.append(Candidate(
                str(path.relative_to(folder)), str(number), when,
                fingerprint(entry.title, story_text(entry.content or entry.summary)),
            ))
    holders: defaultdict[int, list[int]] = defaultdict(list)
    for index, candidate in enumerate(candidates):
        for key in set(candidate.fingerprint.band_keys):
            holders[key].append(index)
    pairs = {
        (first, second)
        for indexes in holders.values()
        for first, second in itertools.combinations(indexes, 2)
        if candidates[first].source_id != candidates[second].source_id
    }
    rules: Counter[str] = Counter()
    identical = 0
    for first, second in pairs:
        explanation = explain_merge(candidates[first], candidates[second])
        if explanation.decision is None:
            continue
        if explanation.signals.jaccard >= NEAR_IDENTICAL:
            identical += 1  # the same test text in two files ("Example entry"): any method
        else:
            rules[explanation.decision.rule] += 1
    files = len({candidate.source_id for candidate in candidates})
    print(f"\nfeeds nobody labelled ({folder}): {len(candidates):,} entries of {files:,} files, "
          f"{len(pairs):,} pairs of two files share a band key; merged: {identical:,} with "
          f"near-identical texts, {sum(rules.values()):,} others (false): "
          + (", ".join(f"{rule} {count}" for rule, count in rules.most_common()) or "none"))


def print_candidate_lookup(items: list[Item]) -> None:
    """How selective the band keys are: the share of same-story pairs that share a key
    directly (the rest are found through another report of the entry), and of
    different-story pairs that share one and so cost a verification."""
    shared = {True: 0, False: 0}
    total = {True: 0, False: 0}
    for first, second in itertools.combinations(items, 2):
        same = first.story == second.story
        total[same] += 1
        keys = set(first.candidate.fingerprint.band_keys)
        shared[same] += bool(keys.intersection(second.candidate.fingerprint.band_keys))
    print(f"\ncandidate lookup: {shared[True] / total[True]:.1%} of same-story pairs share a "
          f"band key, {shared[False] / total[False]:.2%} of different-story pairs do")


# --- the generated reports -------------------------------------------------------------

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
ALPHABET = [chr(code) for code in range(0x4E00, 0x4E00 + 3000)]
WARM_UP = -1  # the pass number of the untimed warm-up: every feed empty


@dataclass(frozen=True, slots=True)
class Story:
    """One generated report, as its source's feed carries it."""

    number: int
    source: int
    title: str
    html: str
    published: datetime


def generated_story(number: int, sources: int) -> Story:
    """Report `number` of ~400 characters, published one a minute from T0 by source
    `number % sources`. Every tenth is a copy of the one before it (another source's),
    reworded a little. A function of `number` alone, so the server process can make any
    report without the others being kept in memory."""
    published = T0 + timedelta(minutes=number)
    source = number % sources
    if number % 10 == 9:
        original = generated_story(number - 1, sources)
        text = original.html.replace("。", "，", 2) + "（記者整理報導）"
        return Story(number, source, original.title + "！", text, published)
    rng = random.Random(number)
    sentences = ["".join(rng.choices(ALPHABET, k=rng.randint(15, 40))) + "。"
                 for _ in range(14)]
    title = "".join(rng.choices(ALPHABET, k=16))
    return Story(number, source, title, "<p>" + "".join(sentences) + "</p>", published)


@dataclass(frozen=True, slots=True)
class FarmPlan:
    """Which report each source's feed holds in each pass."""

    entries: int
    sources: int
    batch: int

    @property
    def passes(self) -> int:
        return math.ceil(math.ceil(self.entries / self.sources) / self.batch)

    def numbers(self, source: int, pass_number: int) -> range:
        """The reports of `source` in pass `pass_number`: its next `batch`, oldest first."""
        if pass_number == WARM_UP:
            return range(0)
        stride = self.sources
        first = source + pass_number * self.batch * stride
        return range(first, min(first + self.batch * stride, self.entries), stride)

    def pass_size(self, pass_number: int) -> int:
        return sum(len(self.numbers(source, pass_number)) for source in range(self.sources))

    def body(self, source: int, pass_number: int) -> bytes:
        """The source's RSS in this pass, newest first, as feeds list them."""
        stories = [generated_story(n, self.sources) for n in self.numbers(source, pass_number)]
        items = [
            FeedItem(
                story.title,
                link=f"https://news{source}.example.tw/news/{story.number}",
                guid=f"n{story.number}",
                description=story.html,
                published=story.published,
            )
            for story in reversed(stories)
        ]
        return rss(items, title=f"來源 {source}", link=f"https://news{source}.example.tw/")


# --- the server ------------------------------------------------------------------------


def serve_farm(plan: FarmPlan, control: Connection) -> None:
    """Serve `/s<N>.xml` for every source of `plan`. Sends the port over `control`, then
    for each pass number received renders every feed of that pass, serves those from then
    on and answers with the number. Always 200 with no validators, as a feed that changes
    every poll does."""
    current: dict[str, bytes] = {}

    def lookup(path: str) -> Served | None:
        body = current.get(path)
        return None if body is None else Served(body)

    server = feed_server("127.0.0.1", 0, lookup)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    control.send(server.server_port)
    while True:
        try:
            pass_number = control.recv()
        except EOFError:  # the bench went away
            break
        rendered = {f"/s{source}.xml": plan.body(source, pass_number)
                    for source in range(plan.sources)}
        current.clear()
        current.update(rendered)
        control.send(pass_number)
    server.shutdown()


class FeedFarm:
    """The feeds of a `FarmPlan`, served over HTTP by a separate process."""

    def __init__(self, plan: FarmPlan) -> None:
        self.plan = plan
        self._control, theirs = multiprocessing.Pipe()
        self._process = multiprocessing.Process(target=serve_farm, args=(plan, theirs),
                                                daemon=True)
        self._process.start()
        theirs.close()
        self._port: int = self._control.recv()

    def url(self, source: int) -> str:
        return f"http://127.0.0.1:{self._port}/s{source}.xml"

    def show(self, pass_number: int) -> None:
        """Render and serve pass `pass_number`; returns once every feed of it is ready."""
        self._control.send(pass_number)
        if self._control.recv() != pass_number:
            raise RuntimeError("the feed server answered for another pass")

    def close(self) -> None:
        self._control.close()
        self._process.terminate()
        self._process.join()

    def __enter__(self) -> FeedFarm:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


# --- the measurement -------------------------------------------------------------------


class TimedStore(Store):
    """The store, counting how long the poller's writer thread spends writing polls (in
    batches, `apply_polls`; one by one, `apply_poll`, when a batch fails)."""

    writing_seconds = 0.0

    def apply_polls(self, outcomes: Sequence[PollOutcome]) -> list[WriteCounts | StoreError]:
        started = time.perf_counter()
        try:
            return super().apply_polls(outcomes)
        finally:
            self.writing_seconds += time.perf_counter() - started

    def apply_poll(self, outcome: PollOutcome) -> WriteCounts:
        started = time.perf_counter()
        try:
            return super().apply_poll(outcome)
        finally:
            self.writing_seconds += time.perf_counter() - started


@dataclass(frozen=True, slots=True)
class PipelineRun:
    seconds: list[float]  # per pass, wall clock
    writing: float  # of which the writer thread spent writing polls, over the timed passes
    warm_up: float
    entries: int  # rows of `entries` at the end
    reports: int  # rows of `reports` at the end
    merged: int  # as the poller's pass summaries counted them


def farm_config(farm: FeedFarm) -> Config:
    """The configuration of the farm's sources, through the real config loader."""
    sources = "".join(f"  - id: s{source}\n    url: {farm.url(source)}\n    categories: [news]\n"
                      for source in range(farm.plan.sources))
    text = ("settings:\n  allow_private_addresses: true\n"
            "categories:\n  news:\n    title: 新聞\nsources:\n" + sources)
    return config_from_text(text, "bench-feeds.yaml")


def poll_farm(farm: FeedFarm, url: str, merging: bool, label: str) -> PipelineRun:
    """Poll every pass of the farm into a fresh store at `url` with the real Poller."""
    upgrade(url)
    store = TimedStore(url, make_engine(url))
    config = farm_config(farm)
    failures: list[str] = []

    def note(outcome: PollOutcome, counts: WriteCounts) -> None:
        if outcome.status == "failed":
            failures.append(f"{outcome.source_id}: {outcome.error}")

    try:
        store.sync_sources(config.sources, datetime.now(UTC))
        stages = PRODUCTION_STAGES if merging else Stages(
            fingerprint=fingerprints_without_band_keys)
        poller = Poller(config, store, Fetcher(allow_private_addresses=True), stages=stages)
        try:
            farm.show(WARM_UP)
            started = time.perf_counter()
            poller.poll(store.due_sources(datetime.now(UTC), include_not_due=True), note)
            warm_up = time.perf_counter() - started
            store.writing_seconds = 0.0
            seconds: list[float] = []
            merged = 0
            passes = farm.plan.passes
            for pass_number in range(passes):
                farm.show(pass_number)
                started = time.perf_counter()
                summary = poller.poll(
                    store.due_sources(datetime.now(UTC), include_not_due=True), note
                )
                seconds.append(time.perf_counter() - started)
                merged += summary.merged
                print(f"  merging {label}: pass {pass_number + 1}/{passes} "
                      f"{seconds[-1]:5.2f} s", file=sys.stderr, flush=True)
                if failures:
                    raise RuntimeError(f"{len(failures)} polls failed; first: {failures[0]}")
        finally:
            poller.close()
        with store.reading() as connection:
            entry_rows = connection.scalar(select(func.count()).select_from(entries_table))
            report_rows = connection.scalar(select(func.count()).select_from(reports_table))
    finally:
        store.close()
    return PipelineRun(seconds, store.writing_seconds, warm_up, entry_rows or 0,
                       report_rows or 0, merged)


def ingest_throughput_with_and_without_merging(
    entries: int = 100_000, sources: int = 100, batch: int = 50
) -> bool:
    """Poll `entries` generated reports over HTTP through the real pipeline into SQLite with
    merging off, then on, and print both rates, overall and for the first and last tenth of
    the passes. Target: merging costs under 2x the ingest time without it. False if a
    sanity check failed (reports lost, or merging not merging)."""
    plan = FarmPlan(entries, sources, batch)
    passes = plan.passes
    sizes = [plan.pass_size(pass_number) for pass_number in range(passes)]
    tenth = max(1, passes // 10)
    copies = entries // 10  # numbers ending in 9
    print(f"\npipeline ingest of {entries:,} reports from {sources} sources over HTTP, "
          f"{passes} passes of up to {batch} reports a source (Poller: {FETCH_THREADS} fetch "
          f"threads, {multiprocessing.cpu_count()} parse processes, one writer; SQLite):")
    totals: dict[bool, float] = {}
    sane = True
    with FeedFarm(plan) as farm:
        for merging in (False, True):
            label = "on " if merging else "off"
            with tempfile.TemporaryDirectory() as directory:
                run = poll_farm(farm, f"sqlite:///{directory}/bench.db", merging, label)
            total = sum(run.seconds)
            totals[merging] = total
            first = sum(sizes[:tenth]) / sum(run.seconds[:tenth])
            last = sum(sizes[-tenth:]) / sum(run.seconds[-tenth:])
            print(f"  merging {label}: {total:6.1f} s, {entries / total:6.0f} reports/s; "
                  f"first tenth {first:6.0f}/s, last tenth {last:6.0f}/s")
            print(f"               writer thread busy {run.writing:.1f} s "
                  f"({run.writing / total:.0%} of the passes); warm-up {run.warm_up:.1f} s, "
                  f"untimed")
            merged = run.reports - run.entries
            expected = copies if merging else 0
            print(f"               {run.entries:,} entries for {run.reports:,} reports: "
                  f"{merged:,} merged ({run.entries / max(run.reports, 1):.1%} of reports "
                  f"are entries; {expected:,} merges expected, {run.merged:,} counted by "
                  f"the poller)")
            if run.reports != entries:
                print(f"  !! {entries - run.reports:,} reports were not stored")
                sane = False
            if merging and not expected * 0.95 <= merged <= expected:
                print("  !! merging on should merge nearly every copy and nothing else")
                sane = False
            if not merging and merged:
                print("  !! merging off still merged reports")
                sane = False
    print(f"  merging costs {totals[True] / totals[False]:.2f}x the ingest time without it")
    return sane


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000,
                        help="reports for the ingest part")
    parser.add_argument("--sources", type=int, default=100,
                        help="sources the ingest part's reports are spread over")
    parser.add_argument("--batch", type=int, default=50,
                        help="reports each source's feed holds in a pass of the ingest part")
    parser.add_argument("--set", choices=("all", "tuning", "blind"), default="all",
                        help="which labelled sets to score (tune with `tuning` only)")
    parser.add_argument("--corpora", type=Path,
                        help="count false merges across the feed files under this folder")
    arguments = parser.parse_args()
    if arguments.corpora:
        print_false_merges_across_feeds(arguments.corpora)
    folders = {"all": (CORPUS_DIR, *BLIND_DIRS), "tuning": (CORPUS_DIR,), "blind": BLIND_DIRS}
    for folder in folders[arguments.set]:
        print_scores_through_the_store(folder)
    items = list(load_items().values())
    print_candidate_lookup(items)
    texts = [(item.title, item.text) for item in items]
    # Two original releases joined: ~600 characters, ~1.8 KB of UTF-8, a full article.
    originals = [item for item in items if item.kind == "originals"]
    articles = [
        (first.title, first.text + second.text)
        for first, second in itertools.pairwise(originals)
    ]
    for label, sample in (("as in the set, ~300 chars", texts), ("~600 chars, ~1.8 KB", articles)):
        costs = fingerprint_microseconds(sample)
        print(f"fingerprint, {label}: median {statistics.median(costs):.0f} µs, "
              f"max {max(costs):.0f} µs")
    if arguments.entries and not ingest_throughput_with_and_without_merging(
        arguments.entries, arguments.sources, arguments.batch
    ):
        sys.exit(1)


if __name__ == "__main__":
    main()
