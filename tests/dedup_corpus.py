"""The labelled near-duplicate evaluation set in tests/data/dedup/, and how it is scored.

Each YAML file holds one kind of item: `originals`, one file per republication
transformation (each item names its original in `of`), and one per hard negative
(`neg_*`, each item naming what it must stay apart from in `against`, when that is not
its own file's other items). Two items are the same story iff their `story` labels match.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from aggregator.dedupe import Candidate, choose_entry, fingerprint

CORPUS_DIR = Path(__file__).parent / "data" / "dedup"


@dataclass(frozen=True)
class Item:
    id: str
    kind: str  # the file it came from
    story: str
    title: str
    text: str
    link: str
    candidate: Candidate
    of: str | None  # the original a republication was made from
    against: tuple[str, ...]  # what a hard negative must stay apart from


def _item(kind: str, raw: dict[str, Any]) -> Item:
    published: datetime = raw["published"]
    return Item(
        id=raw["id"],
        kind=kind,
        story=raw["story"],
        title=raw["title"],
        text=raw["text"],
        link=raw["link"],
        candidate=Candidate(
            source_id=raw["source"],
            identity=raw["identity"],
            published=published,
            fingerprint=fingerprint(raw["title"], raw["text"]),
        ),
        of=raw.get("of"),
        against=tuple(raw.get("against", ())),
    )


def load_items() -> dict[str, Item]:
    items: dict[str, Item] = {}
    for path in sorted(CORPUS_DIR.glob("*.yaml")):
        for raw in yaml.safe_load(path.read_text("utf-8")):
            items[raw["id"]] = _item(path.stem, raw)
    return items


def kinds(prefix: str) -> list[str]:
    """The kinds whose files start with `prefix`; for parametrising tests."""
    return sorted(
        path.stem for path in CORPUS_DIR.glob("*.yaml")
        if path.stem.startswith(prefix) and path.stem != "originals"
    )


def cluster(items: Sequence[Item]) -> dict[str, str]:
    """Merge the items as the store will, in publication order: each joins the entry
    `choose_entry` picks among those sharing a band key, or starts its own.
    Returns item id → entry id."""
    index: defaultdict[str, set[str]] = defaultdict(set)  # band key → entry ids
    reports: defaultdict[str, list[Candidate]] = defaultdict(list)
    entry_of: dict[str, str] = {}
    for item in sorted(items, key=lambda item: item.candidate.published):
        keys = item.candidate.fingerprint.band_keys
        candidates = {entry for key in keys for entry in index[key]}
        choice = choose_entry(item.candidate, {entry: reports[entry] for entry in candidates})
        entry = choice[0] if choice else item.id
        entry_of[item.id] = entry
        reports[entry].append(item.candidate)
        for key in keys:
            index[key].add(entry)
    return entry_of


@dataclass(frozen=True)
class PairCounts:
    true_positive: int = 0
    false_positive: int = 0
    false_negative: int = 0
    true_negative: int = 0  # different stories kept apart

    @property
    def precision(self) -> float:
        merged = self.true_positive + self.false_positive
        return self.true_positive / merged if merged else 1.0

    @property
    def recall(self) -> float:
        same = self.true_positive + self.false_negative
        return self.true_positive / same if same else 1.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


def pair_counts(items: Sequence[Item], entry_of: dict[str, str]) -> dict[str, PairCounts]:
    """Pairwise counts overall ("all") and per kind (a pair counts for both its items' kinds)."""
    tallies: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for first, second in itertools.combinations(items, 2):
        same_story = first.story == second.story
        merged = entry_of[first.id] == entry_of[second.id]
        slot = (0 if merged else 2) if same_story else (1 if merged else 3)
        for kind in {"all", first.kind, second.kind}:
            tallies[kind][slot] += 1
    return {kind: PairCounts(*counts) for kind, counts in tallies.items()}
