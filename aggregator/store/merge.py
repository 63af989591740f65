"""Near-duplicate merging in the store: the band index, the candidate lookup, staff overrides.

A poll's plan brings its new reports' fingerprints (the store never computes them).
Inside `PollWriter.apply_poll`'s transaction (`write.py`), `choose_entries` finds for each
report the entry it joins: a staff "together" override first, else the exact-link
match unless staff split that pair apart, else the entries sharing a band key within
CANDIDATE_WINDOW, decided by the pure `aggregator.dedupe.matching_entries`; a report that
matches several entries joins them into the oldest (`join_entries`), whose id the others'
ids become aliases of. `index_reports` writes the band keys of the reports just inserted.
The staff actions' SQL (`split_apart`, `join_together`) lives here too; `staff.py` wraps
each in one transaction with the entry bookkeeping.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.sql.elements import TextClause

from aggregator.dedupe import (
    Candidate,
    Fingerprint,
    MergeDecision,
    MergeExplanation,
    explain_merge,
    fingerprint,
    matching_entries,
)
from aggregator.models import StaffAction
from aggregator.store.errors import StoreError
from aggregator.store.read import find_entry_id
from aggregator.store.rows import AnyRow, chunks
from aggregator.store.schema import (
    entries,
    entry_aliases,
    entry_categories,
    merge_bands,
    merge_overrides,
    reports,
    staff_actions,
)
from aggregator.text.story import story_text

# Only entries whose reports share a band key and were published this close are compared:
# title keys such as 市長今日公開行程 recur daily, so an unbounded lookup would grow with the store.
CANDIDATE_WINDOW = timedelta(days=30)
# Verified candidates per new report: the ones sharing the most band keys.
MAX_CANDIDATES = 10
# A band key held by more reports than this (a daily notice's stock title, a feed repeating
# one text thousands of times) says little about which entry a report belongs to, and
# reading its holders would make one poll's lookup grow with the store: such a key is
# skipped, so no key brings a report more than this many hits.
MAX_KEY_HOLDERS = 50
# A report stored without a fingerprint still counts for the one-report-per-source rule.
_NO_FINGERPRINT = Fingerprint(title_key="", shingles=frozenset(), facts=frozenset(), band_keys=())


@dataclass(frozen=True, slots=True)
class EntryChoice:
    """The stored entry a new report joins, and the rule (and score) that decided it;
    `absorbs`: the other entries it matched too, which join `entry_id` (the oldest)."""

    entry_id: int
    rule: str
    score: float | None = None
    absorbs: tuple[int, ...] = ()


@dataclass(slots=True)
class _Overrides:
    apart: set[int] = field(default_factory=set)  # entries this report must not join
    together: set[int] = field(default_factory=set)  # entries it must join


def recent_texts(connection: Connection, source_id: str, count: int) -> list[str]:
    """The clean text of the source's latest `count` reports, for learning its boilerplate."""
    rows = connection.execute(
        select(reports.c.content, reports.c.summary)
        .where(reports.c.source_id == source_id)
        .order_by(reports.c.published.desc())
        .limit(count)
    )
    return [story_text(row.content or row.summary) for row in rows]


def choose_entries(
    connection: Connection,
    source_id: str,
    new: Sequence[Candidate],
    same_url: Sequence[int | None],
) -> list[EntryChoice | None]:
    """For each new report of `source_id` (with the entry its canonical link matched, if
    any), the entry it joins, or None for a new entry. No entry takes two of them.

    A report that matches several entries joins them all, unless staff split any two of
    them apart or they hold reports of one source: the grouping is then the same whatever
    order the reports arrive in (a rewrite before its release, a flash before either)."""
    overrides = _overrides(connection, source_id, [candidate.identity for candidate in new])
    near = _near_entries(connection, new)
    matches = [
        [
            (int(entry_id), decision)
            for entry_id, decision in matching_entries(
                candidate,
                {
                    str(entry_id): near.reports[entry_id]
                    for entry_id in chosen - overrides.get(candidate.identity, _Overrides()).apart
                },
            )
        ]
        for candidate, chosen in zip(new, near.chosen or [set()] * len(new), strict=True)
    ]
    several = {entry_id for found in matches if len(found) > 1 for entry_id, _ in found}
    apart = _kept_apart(connection, several) if several else set()
    taken: set[int] = set()
    choices: list[EntryChoice | None] = []
    for candidate, url_entry, found in zip(new, same_url, matches, strict=True):
        own = overrides.get(candidate.identity, _Overrides())
        choice = _choice(url_entry, own, found, taken, near, apart)
        if choice is not None:
            taken.update((choice.entry_id, *choice.absorbs))
        choices.append(choice)
    return choices


def _choice(
    url_entry: int | None,
    own: _Overrides,
    found: list[tuple[int, MergeDecision]],
    taken: set[int],
    near: _NearEntries,
    apart: set[frozenset[int]],
) -> EntryChoice | None:
    forced = sorted(own.together - taken)
    if forced:
        return EntryChoice(forced[0], "forced")
    if url_entry is not None and url_entry not in own.apart | taken:
        return EntryChoice(url_entry, "same-url")
    found = [(entry_id, decision) for entry_id, decision in found if entry_id not in taken]
    if not found:
        return None
    best, decision = found[0]
    joined = [best]
    sources = {report.source_id for report in near.reports[best]}
    for entry_id, _ in found[1:]:
        holders = {report.source_id for report in near.reports[entry_id]}
        if holders & sources or any(frozenset((entry_id, j)) in apart for j in joined):
            continue
        joined.append(entry_id)
        sources |= holders
    oldest = min(joined)
    return EntryChoice(
        oldest, decision.rule, decision.score, tuple(sorted(set(joined) - {oldest}))
    )


def _kept_apart(connection: Connection, entry_ids: set[int]) -> set[frozenset[int]]:
    """The pairs of these entries that staff split apart: one holds a report that staff
    split from a report the other holds. A join never undoes a split."""
    mine, theirs = reports.alias("mine"), reports.alias("theirs")
    pairs: set[frozenset[int]] = set()
    for chunk in chunks(sorted(entry_ids)):
        rows = connection.execute(
            select(mine.c.entry_id, theirs.c.entry_id.label("other_entry_id"))
            .select_from(merge_overrides)
            .join(
                mine,
                and_(
                    mine.c.source_id == merge_overrides.c.source_id,
                    mine.c.identity == merge_overrides.c.identity,
                ),
            )
            .join(
                theirs,
                and_(
                    theirs.c.source_id == merge_overrides.c.other_source_id,
                    theirs.c.identity == merge_overrides.c.other_identity,
                ),
            )
            .where(
                merge_overrides.c.kind == "apart",
                mine.c.entry_id.in_(chunk),
                theirs.c.entry_id.in_(sorted(entry_ids)),
            )
        )
        pairs.update(frozenset((row.entry_id, row.other_entry_id)) for row in rows)
    return pairs


def join_entries(connection: Connection, entry_id: int, others: Sequence[int]) -> None:
    """Move every report of `others` to entry `entry_id` and delete those entries, keeping
    their public ids (and the ids they had absorbed) as aliases of `entry_id`. The caller
    refreshes the entry's shown report, categories and search index."""
    if not others:
        return
    connection.execute(
        update(reports).where(reports.c.entry_id.in_(others)).values(entry_id=entry_id)
    )
    connection.execute(
        update(entry_aliases).where(entry_aliases.c.entry_id.in_(others)).values(entry_id=entry_id)
    )
    connection.execute(
        insert(entry_aliases).from_select(
            ["uid", "entry_id"],
            select(entries.c.uid, literal(entry_id)).where(entries.c.id.in_(others)),
        )
    )
    connection.execute(delete(entry_categories).where(entry_categories.c.entry_id.in_(others)))
    connection.execute(delete(entries).where(entries.c.id.in_(others)))


@dataclass(slots=True)
class _NearEntries:
    """The entries sharing a band key with the new reports, and their reports."""

    hits: dict[int, list[tuple[datetime, int]]]  # band key → (published, entry id)
    reports: dict[int, list[Candidate]]
    chosen: list[set[int]] = field(default_factory=list)  # per new report: `for_candidate`

    def for_candidate(self, candidate: Candidate) -> set[int]:
        """The entries sharing the most band keys with `candidate`, at most
        MAX_CANDIDATES: a key many entries share (a daily notice's title) says little,
        and verifying every holder of it would make ingest cost grow with the store."""
        shared: Counter[int] = Counter()
        for key in candidate.fingerprint.band_keys:
            for published, entry_id in self.hits.get(key, ()):
                if abs(published - candidate.published) <= CANDIDATE_WINDOW:
                    shared[entry_id] += 1
        return {entry_id for entry_id, _ in shared.most_common(MAX_CANDIDATES)}


def _inlined_keys(keys: Sequence[int]) -> TextClause:
    """`merge_bands.band_key IN (...)` with the keys written into the statement: they are
    integers this module computed, and binding them made SQLAlchemy expand hundreds of
    parameters per statement, a third of the lookup's time."""
    return text(f"merge_bands.band_key IN ({','.join(str(int(key)) for key in keys)})")


def _near_entries(connection: Connection, new: Sequence[Candidate]) -> _NearEntries:
    keys = sorted({key for candidate in new for key in candidate.fingerprint.band_keys})
    if not keys:
        return _NearEntries({}, {})
    earliest = _shifted(min(candidate.published for candidate in new), -CANDIDATE_WINDOW)
    latest = _shifted(max(candidate.published for candidate in new), CANDIDATE_WINDOW)
    hits: defaultdict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for key_chunk in chunks(keys):
        # Counted on the index alone: no report row is read for a crowded key.
        crowded = set(
            connection.scalars(
                select(merge_bands.c.band_key)
                .where(_inlined_keys(key_chunk))
                .group_by(merge_bands.c.band_key)
                .having(func.count() > MAX_KEY_HOLDERS)
            )
        )
        telling = [key for key in key_chunk if key not in crowded]
        if not telling:
            continue
        for row in connection.execute(
            select(merge_bands.c.band_key, reports.c.published, reports.c.entry_id)
            .join(reports, reports.c.id == merge_bands.c.report_id)
            .where(_inlined_keys(telling), reports.c.published.between(earliest, latest))
        ):
            hits[row.band_key].append((row.published, row.entry_id))
    near = _NearEntries(dict(hits), {})
    # Only the entries some new report will verify: loading every holder of a shared key
    # (and decoding its fingerprint) was most of the ingest time once the store filled.
    near.chosen = [near.for_candidate(candidate) for candidate in new]
    entry_ids = sorted(set().union(*near.chosen))
    attached: defaultdict[int, list[Candidate]] = defaultdict(list)
    for id_chunk in chunks(entry_ids):
        for report in connection.execute(
            select(
                reports.c.entry_id,
                reports.c.source_id,
                reports.c.identity,
                reports.c.published,
                reports.c.fingerprint,
            ).where(reports.c.entry_id.in_(id_chunk))
        ):
            attached[report.entry_id].append(
                Candidate(
                    report.source_id,
                    report.identity,
                    report.published,
                    _stored(report.fingerprint),
                )
            )
    near.reports = dict(attached)
    return near


def _shifted(moment: datetime, by: timedelta) -> datetime:
    """`moment + by`, stopping at the calendar's ends: the parser keeps dates within sane
    bounds, but a store may hold a year-1 date written before it did."""
    try:
        return moment + by
    except OverflowError:
        return (datetime.min if by < timedelta(0) else datetime.max).replace(tzinfo=UTC)


def _stored(blob: bytes | None) -> Fingerprint:
    if blob is None:
        return _NO_FINGERPRINT
    try:
        return Fingerprint.from_bytes(blob)
    except ValueError:
        return _NO_FINGERPRINT  # an older format: compared as text-less until re-fingerprinted


def _overrides(
    connection: Connection, source_id: str, identities: Sequence[str]
) -> dict[str, _Overrides]:
    """Staff overrides of these reports, as the entries the partners are in now."""
    found: defaultdict[str, _Overrides] = defaultdict(_Overrides)
    for chunk in chunks(sorted(set(identities))):
        for row in connection.execute(
            select(merge_overrides.c.identity, merge_overrides.c.kind, reports.c.entry_id)
            .join(
                reports,
                and_(
                    reports.c.source_id == merge_overrides.c.other_source_id,
                    reports.c.identity == merge_overrides.c.other_identity,
                ),
            )
            .where(merge_overrides.c.source_id == source_id, merge_overrides.c.identity.in_(chunk))
        ):
            own = found[row.identity]
            (own.together if row.kind == "together" else own.apart).add(row.entry_id)
    return dict(found)


def index_reports(connection: Connection, source_id: str, new: Sequence[Candidate]) -> None:
    """Add the band keys of the source's reports just inserted to the candidate index."""
    keys = {candidate.identity: candidate.fingerprint.band_keys for candidate in new}
    rows: list[dict[str, Any]] = []
    for chunk in chunks(list(keys)):
        for report_id, identity in connection.execute(
            select(reports.c.id, reports.c.identity).where(
                reports.c.source_id == source_id, reports.c.identity.in_(chunk)
            )
        ):
            rows.extend(
                {"band_key": key, "report_id": report_id} for key in set(keys[identity])
            )
    if rows:
        connection.execute(insert(merge_bands), rows)


def fingerprint_stored_reports(connection: Connection, batch: int = 2000) -> None:
    """Fingerprint and index every stored report that has no fingerprint (the migration
    that introduced them backfills with this)."""
    after = 0
    while True:
        # Only the columns 0005 knew: the migration runs this before later ones add theirs.
        rows = connection.execute(
            select(reports.c.id, reports.c.title, reports.c.content, reports.c.summary)
            .where(reports.c.fingerprint.is_(None), reports.c.id > after)
            .order_by(reports.c.id)
            .limit(batch)
        ).all()
        if not rows:
            return
        prints = {
            row.id: fingerprint(row.title, story_text(row.content or row.summary)) for row in rows
        }
        connection.execute(
            update(reports)
            .where(reports.c.id == bindparam("b_id"))
            .values(fingerprint=bindparam("b_fingerprint")),
            [
                {"b_id": report_id, "b_fingerprint": found.to_bytes()}
                for report_id, found in prints.items()
            ],
        )
        connection.execute(
            insert(merge_bands),
            [
                {"band_key": key, "report_id": row.id}
                for row in rows
                for key in set(prints[row.id].band_keys)
            ],
        )
        after = rows[-1].id


# --- explaining a pair --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExplainedReport:
    """One report of a pair being explained, and how the store holds it now."""

    entry_uid: str
    source_id: str
    title: str
    link: str | None
    published: datetime
    merge_rule: str  # how it joined its entry: "first", "same-url", a dedupe rule, staff
    merge_score: float | None


@dataclass(frozen=True, slots=True)
class PairExplanation:
    """Why two reports are, or are not, one story: the decision with every signal, and
    any staff override between them (which wins over the decision)."""

    first: ExplainedReport
    second: ExplainedReport
    staff_override: str | None  # "apart" (split) or "together" (forced)
    explanation: MergeExplanation


def explain_pair(connection: Connection, first: str, second: str) -> PairExplanation:
    """Explain two reports, each named by an entry id (its shown report) or a report link."""
    one, other = _named_report(connection, first), _named_report(connection, second)
    override = connection.scalar(
        select(merge_overrides.c.kind).where(
            merge_overrides.c.source_id == one.source_id,
            merge_overrides.c.identity == one.identity,
            merge_overrides.c.other_source_id == other.source_id,
            merge_overrides.c.other_identity == other.identity,
        )
    )
    explanation = explain_merge(_candidate(one), _candidate(other))
    return PairExplanation(_explained(one), _explained(other), override, explanation)


def explain_reports(connection: Connection, entry_id: int) -> dict[str, MergeExplanation]:
    """Each other report of the entry (by source) against the entry's shown report: what
    the merge decision makes of the pair today."""
    shown_id = connection.scalar(
        select(entries.c.shown_report_id).where(entries.c.id == entry_id)
    )
    rows = connection.execute(select(reports).where(reports.c.entry_id == entry_id)).all()
    shown = next((row for row in rows if row.id == shown_id), None)
    if shown is None:
        return {}
    return {
        row.source_id: explain_merge(_candidate(row), _candidate(shown))
        for row in rows
        if row.id != shown.id
    }


def _named_report(connection: Connection, name: str) -> AnyRow:
    entry_id = find_entry_id(connection, name)
    if entry_id is not None:
        shown = select(entries.c.shown_report_id).where(entries.c.id == entry_id)
        which = reports.c.id == shown.scalar_subquery()
    else:
        which = or_(reports.c.link == name, reports.c.canonical_link == name)
    row = connection.execute(
        select(reports, entries.c.uid.label("entry_uid"))
        .join(entries, entries.c.id == reports.c.entry_id)
        .where(which)
        .order_by(reports.c.id)
        .limit(1)
    ).first()
    if row is None:
        raise StoreError(f"{name!r} is neither an entry id nor the link of a stored report")
    return row


def _candidate(row: AnyRow) -> Candidate:
    return Candidate(row.source_id, row.identity, row.published, _stored(row.fingerprint))


def _explained(row: AnyRow) -> ExplainedReport:
    return ExplainedReport(
        row.entry_uid,
        row.source_id,
        row.title,
        row.link,
        row.published,
        row.merge_rule,
        row.merge_score,
    )


# --- staff actions ----------------------------------------------------------------


def split_apart(
    connection: Connection, report_id: int, others: Sequence[int], now: datetime
) -> None:
    """Record that report `report_id` and each of `others` are different stories."""
    _override(connection, "apart", [(report_id, other) for other in others], now)


def join_together(
    connection: Connection, ids: Sequence[int], other_ids: Sequence[int], now: datetime
) -> None:
    """Record that every report of `ids` tells the story of every report of `other_ids`."""
    _override(connection, "together", [(one, other) for one in ids for other in other_ids], now)


def _override(
    connection: Connection, kind: str, pairs: Sequence[tuple[int, int]], now: datetime
) -> None:
    keys = {
        row.id: (row.source_id, row.identity)
        for row in connection.execute(
            select(reports.c.id, reports.c.source_id, reports.c.identity).where(
                reports.c.id.in_({report_id for pair in pairs for report_id in pair})
            )
        )
    }
    directed = [
        (keys[first], keys[second])
        for one, other in pairs
        for first, second in ((one, other), (other, one))
    ]
    # A newer decision on a pair replaces an older one.
    for (source_id, identity), (other_source_id, other_identity) in directed:
        connection.execute(
            delete(merge_overrides).where(
                merge_overrides.c.source_id == source_id,
                merge_overrides.c.identity == identity,
                merge_overrides.c.other_source_id == other_source_id,
                merge_overrides.c.other_identity == other_identity,
            )
        )
    if directed:
        connection.execute(
            insert(merge_overrides),
            [
                {
                    "source_id": first[0],
                    "identity": first[1],
                    "other_source_id": second[0],
                    "other_identity": second[1],
                    "kind": kind,
                    "created_at": now,
                }
                for first, second in directed
            ],
        )


def mark_merged_by_staff(connection: Connection, report_ids: Sequence[int], rule: str) -> None:
    connection.execute(
        update(reports)
        .where(reports.c.id.in_(report_ids))
        .values(merge_rule=rule, merge_score=None)
    )


def log_action(connection: Connection, action: StaffAction) -> None:
    """The audit row of a staff action, written in the action's own transaction."""
    connection.execute(
        insert(staff_actions).values(
            at=action.at,
            actor=action.actor,
            action=action.action,
            entry_uid=action.entry_uid,
            detail=json.dumps(action.detail, ensure_ascii=False, sort_keys=True),
        )
    )


def actions_on(connection: Connection, entry_uid: str) -> list[StaffAction]:
    """The staff actions on an entry (as either side of a merge), newest first."""
    rows = connection.execute(
        select(staff_actions)
        .where(
            or_(
                staff_actions.c.entry_uid == entry_uid,
                staff_actions.c.detail.contains(f'"{entry_uid}"'),
            )
        )
        .order_by(staff_actions.c.at.desc(), staff_actions.c.id.desc())
    )
    return [
        StaffAction(
            at=row.at,
            actor=row.actor,
            action=row.action,
            entry_uid=row.entry_uid,
            detail=json.loads(row.detail),
        )
        for row in rows
    ]
