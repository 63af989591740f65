"""Near-duplicate merging on the labelled set: pairwise precision, recall and F1, per kind,
and what a fingerprint costs.

    python bench/dedup.py

Targets (issue 4): precision ≥ 0.98, recall ≥ 0.90; a fingerprint well under 1 ms for
a 1-2 KB article.
"""

from __future__ import annotations

import itertools
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aggregator.dedupe import fingerprint
from tests.dedup_corpus import Item, cluster, load_items, pair_counts

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


def ingest_throughput_with_and_without_merging(entries: int = 100_000) -> None:
    """TO COMPLETE WITH THE STORE (lead): ingest `entries` generated reports into a real
    store with merging off, then on (fingerprint, band-key lookup, choose_entry, merge
    bookkeeping), and print both rates; target: merging costs < 2x ingest without it."""
    raise NotImplementedError("needs the store's band-key index")


def main() -> None:
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

if __name__ == "__main__":
    main()
