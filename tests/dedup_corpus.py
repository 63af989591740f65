"""The labelled near-duplicate evaluation sets, how they are written through the store in
any arrival order, and how the result is scored.

tests/data/dedup/ (the set the method is tuned on): each YAML file holds one kind of item:
`originals`, one file per republication transformation (each item names its original in
`of`), and one per hard negative (`neg_*`, each item naming what it must stay apart from in
`against`, when that is not its own file's other items). tests/data/dedup-blind/ (written
blind, never tuned on) has the same fields and names each item's kind in `kind`; its hard
negatives are the `neg_*` files too. Two items are the same story iff their `story`
labels match.
"""

from __future__ import annotations

import itertools
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

import yaml

from aggregator.dedupe import Candidate, choose_entry, fingerprint
from aggregator.models import EntryQuery, Report
from aggregator.store import Store
from aggregator.text.story import story_text
from tests.storedata import T0, outcome, report, source

CORPUS_DIR = Path(__file__).parent / "data" / "dedup"
# Written blind, each by a separate author from the description alone, never tuned
# on: the first was scored once on the method before figures and lead keys, the second
# once on the method after them, the third once after bridged entries joined too.
BLIND_DIRS = (
    Path(__file__).parent / "data" / "dedup-blind",
    Path(__file__).parent / "data" / "dedup-blind-2",
    Path(__file__).parent / "data" / "dedup-blind-3",
)
# The kinds the issue measures apart: pairs involving an edited rewrite or a wire flash.
REWRITE_OR_FLASH = frozenset({"rewrite", "rewrite_one_wrong_fact", "flash"})


@dataclass(frozen=True)
class Item:
    id: str
    kind: str  # its `kind`, else the file it came from
    negative: bool  # a hard negative (from a `neg_*` file)
    story: str
    title: str
    text: str
    link: str
    candidate: Candidate
    of: str | None  # the original a republication was made from
    against: tuple[str, ...]  # what a hard negative must stay apart from


def _item(file: str, raw: dict[str, Any]) -> Item:
    published: datetime = raw["published"]
    return Item(
        id=raw["id"],
        kind=raw.get("kind", file),
        negative=file.startswith("neg_"),
        story=raw["story"],
        title=raw["title"],
        text=raw["text"],
        link=raw["link"],
        candidate=Candidate(
            source_id=raw["source"],
            identity=raw["identity"],
            published=published,
            fingerprint=fingerprint(raw["title"], story_text(_paragraphs(raw["text"]))),
        ),
        of=raw.get("of"),
        against=tuple(raw.get("against", ())),
    )


def load_items(folder: Path = CORPUS_DIR) -> dict[str, Item]:
    items: dict[str, Item] = {}
    for path in sorted(folder.glob("*.yaml")):
        for raw in yaml.safe_load(path.read_text("utf-8")):
            items[raw["id"]] = _item(path.stem, raw)
    return items


def transformations(items: dict[str, Item]) -> list[str]:
    """The kinds of republication (items made from another); for parametrising tests."""
    return sorted({item.kind for item in items.values() if item.of and not item.negative})


def hard_negatives(items: dict[str, Item]) -> list[str]:
    """The kinds of look-alike that must stay apart; for parametrising tests."""
    return sorted({item.kind for item in items.values() if item.negative})


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


# --- through the store, in any arrival order -------------------------------------------

Polls = list[list[Item]]  # each inner list: one poll of one source


def _paragraphs(text: str) -> str:
    """The item's text as the HTML its source serves, one paragraph a line."""
    return "".join(f"<p>{escape(line)}</p>" for line in text.splitlines() if line)


def corpus_report(item: Item) -> Report:
    paragraphs = _paragraphs(item.text)
    return report(
        item.candidate.source_id,
        item.candidate.identity,
        title=item.title,
        content=paragraphs,
        link=item.link,
        published=item.candidate.published.astimezone(UTC),
    )


def ingest_polls(store: Store, polls: Polls) -> dict[str, str]:
    """Write each poll through the store, in this order; item id → entry uid."""
    items = [item for poll in polls for item in poll]
    names = sorted({item.candidate.source_id for item in items})
    store.sync_sources([source(name) for name in names], T0)
    for poll in polls:
        store.apply_poll(outcome(poll[0].candidate.source_id, new=[corpus_report(i) for i in poll]))
    by_report = {(item.candidate.source_id, item.link): item.id for item in items}
    return {
        by_report[(attached.source_id, attached.link or "")]: entry.id
        for entry in store.entries(EntryQuery(limit=1000)).entries
        for attached in entry.reports
    }


def by_date(items: Sequence[Item]) -> list[Item]:
    return sorted(items, key=lambda item: (item.candidate.published, item.id))


def one_poll_per_source(items: Sequence[Item]) -> Polls:
    """One pass: each source polled once with all its reports, sources by name."""
    by_source: defaultdict[str, list[Item]] = defaultdict(list)
    for item in by_date(items):
        by_source[item.candidate.source_id].append(item)
    return [by_source[name] for name in sorted(by_source)]


def _shuffled(seed: int) -> Callable[[Sequence[Item]], Polls]:
    def order(items: Sequence[Item]) -> Polls:
        polls = [[item] for item in by_date(items)]
        random.Random(seed).shuffle(polls)
        return polls

    return order


ARRIVAL_ORDERS: dict[str, Callable[[Sequence[Item]], Polls]] = {
    "publication": lambda items: [[item] for item in by_date(items)],
    "reverse of publication": lambda items: [[item] for item in reversed(by_date(items))],
    "shuffled (seed 1)": _shuffled(1),
    "shuffled (seed 2)": _shuffled(2),
    "shuffled (seed 3)": _shuffled(3),
    "one pass, sources by name": one_poll_per_source,
    "one pass, sources in reverse": lambda items: one_poll_per_source(items)[::-1],
}


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
    """Pairwise counts overall ("all"), on pairs involving a rewrite or a flash
("rewrite or flash"), and per kind (a pair counts for both its items' kinds)."""
    tallies: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for first, second in itertools.combinations(items, 2):
        same_story = first.story == second.story
        merged = entry_of[first.id] == entry_of[second.id]
        slot = (0 if merged else 2) if same_story else (1 if merged else 3)
        involved = {first.kind, second.kind}
        if involved & REWRITE_OR_FLASH:
            involved.add("rewrite or flash")
        for kind in involved | {"all"}:
            tallies[kind][slot] += 1
    return {kind: PairCounts(*counts) for kind, counts in tallies.items()}
