"""Near-duplicate merging on the labelled set: pairwise precision, recall and F1, per kind,
and what a fingerprint costs.

    python bench/dedup.py [--entries 100000]

Targets (issue 4): precision ≥ 0.98, recall ≥ 0.90; a fingerprint well under 1 ms for
a 1-2 KB article.
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aggregator.dedupe import fingerprint
from aggregator.migrate import upgrade
from aggregator.models import Report
from aggregator.store import Store, make_engine
from tests.dedup_corpus import Item, cluster, load_items, pair_counts
from tests.storedata import T0, outcome, report, source

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


def generated_reports(count: int, sources: int = 10) -> list[Report]:
    """`count` reports of ~400 characters from `sources` sources, one a minute, in time
    order; every tenth is another source's copy of the report before it, reworded a little."""
    rng = random.Random(4)
    alphabet = [chr(code) for code in range(0x4E00, 0x4E00 + 3000)]
    made: list[Report] = []
    for number in range(count):
        published = T0 + timedelta(minutes=number)
        source_id = f"s{number % sources}"
        if number % 10 == 9:
            original = made[-1]
            text = original.content.replace("。", "，", 2) + "（記者整理報導）"
            made.append(report(source_id, f"n{number}", title=original.title + "！",
                               content=text, published=published))
            continue
        sentences = ["".join(rng.choices(alphabet, k=rng.randint(15, 40))) + "。"
                     for _ in range(14)]
        made.append(report(source_id, f"n{number}", title="".join(rng.choices(alphabet, k=16)),
                           content="<p>" + "".join(sentences) + "</p>", published=published))
    return made


def ingest_seconds(url: str, made: list[Report], merging: bool, batch: int) -> list[float]:
    """Ingest `made` as polls of `batch` reports per source; the seconds each poll took."""
    upgrade(url)
    store = Store(url, make_engine(url), merge_near_duplicates=merging)
    try:
        store.sync_sources([source(sid) for sid in sorted({r.source_id for r in made})], T0)
        by_source: defaultdict[str, list[Report]] = defaultdict(list)
        costs: list[float] = []
        for item in made:
            pending = by_source[item.source_id]
            pending.append(item)
            if len(pending) == batch:
                started = time.perf_counter()
                store.apply_poll(outcome(item.source_id, new=pending))
                costs.append(time.perf_counter() - started)
                by_source[item.source_id] = []
        for source_id, pending in by_source.items():
            if pending:
                started = time.perf_counter()
                store.apply_poll(outcome(source_id, new=pending))
                costs.append(time.perf_counter() - started)
    finally:
        store.close()
    return costs


def ingest_throughput_with_and_without_merging(entries: int = 100_000, batch: int = 50) -> None:
    """Ingest `entries` generated reports into a real SQLite store with merging off, then on
    (fingerprint, band-key lookup, choose_entry, band index writes), and print both rates,
    overall and for the first and last tenth (candidate lookup must not slow with size).
    Target: merging costs under 2x the ingest time without it."""
    made = generated_reports(entries)
    polls_per_tenth = max(1, entries // batch // 10)
    print(f"\ningest of {entries:,} reports, polls of {batch} reports of one source (SQLite):")
    totals = {}
    for merging in (False, True):
        with tempfile.TemporaryDirectory() as directory:
            costs = ingest_seconds(f"sqlite:///{directory}/bench.db", made, merging, batch)
        total = sum(costs)
        totals[merging] = total
        tenth = entries / 10
        first, last = sum(costs[:polls_per_tenth]), sum(costs[-polls_per_tenth:])
        print(f"  merging {'on ' if merging else 'off'}: {total:6.1f} s, "
              f"{entries / total:6.0f} reports/s; first tenth {tenth / first:6.0f}/s, "
              f"last tenth {tenth / last:6.0f}/s")
    print(f"  merging costs {totals[True] / totals[False]:.2f}x the ingest time without it")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000, help="for the ingest part")
    arguments = parser.parse_args()
    items = list(load_items().values())
    entry_of = cluster(items)
    counts = pair_counts(items, entry_of)
    print(f"{len(items)} reports, {len(set(entry_of.values()))} entries after merging\n")
    print(f"{'kind':28} {'precision':>9} {'recall':>7} {'F1':>6}   TP   FP   FN  kept apart")
    for kind in ["all", *sorted(kind for kind in counts if kind != "all")]:
        c = counts[kind]
        print(f"{kind:28} {c.precision:9.3f} {c.recall:7.3f} {c.f1:6.3f} "
              f"{c.true_positive:4} {c.false_positive:4} {c.false_negative:4} {c.true_negative:11}")
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
    ingest_throughput_with_and_without_merging(arguments.entries)

if __name__ == "__main__":
    main()
