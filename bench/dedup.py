"""Near-duplicate merging on the labelled set: pairwise precision, recall and F1, per kind,
and what a fingerprint costs.

    python bench/dedup.py

Targets (issue 4): precision ≥ 0.98, recall ≥ 0.90; a fingerprint well under 1 ms for
a 1-2 KB article.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aggregator.dedupe import fingerprint
from tests.dedup_corpus import cluster, load_items, pair_counts

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
    print(f"{'kind':28} {'precision':>9} {'recall':>7} {'F1':>6}   TP   FP   FN")
    for kind in ["all", *sorted(kind for kind in counts if kind != "all")]:
        c = counts[kind]
        print(f"{kind:28} {c.precision:9.3f} {c.recall:7.3f} {c.f1:6.3f} "
              f"{c.true_positive:4} {c.false_positive:4} {c.false_negative:4}")
    texts = [(item.title, item.text) for item in items]
    long_texts = [(title, text * 4) for title, text in texts]  # ~1.2 KB of text, 3.6 KB UTF-8
    for label, sample in (("as in the set (~300 chars)", texts), ("4x longer", long_texts)):
        costs = fingerprint_microseconds(sample)
        print(f"\nfingerprint, {label}: median {statistics.median(costs):.0f} µs, "
              f"max {max(costs):.0f} µs")


if __name__ == "__main__":
    main()
