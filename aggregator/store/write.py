"""The write path: polls in batches, one transaction per batch and one savepoint per poll
(a source's health, then its new and changed reports), merging each new report into the
entry it is another copy of."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, exists, func, insert, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError

from aggregator.dedupe import Candidate, Fingerprint, candidate_from_report
from aggregator.models import PollOutcome, Report, WriteCounts, WritePlan
from aggregator.search.document import report_documents
from aggregator.store.attempts import record_attempt
from aggregator.store.categories import (
    add_entry_categories,
    categorise,
    rewrite_entry_categories,
)
from aggregator.store.engine import INGEST_LOCK, Database, share
from aggregator.store.errors import StoreError
from aggregator.store.merge import EntryChoice, choose_entries, index_reports, join_entries
from aggregator.store.outbox import queue_feed_pings
from aggregator.store.pollstats import record_polls
from aggregator.store.rows import chunks
from aggregator.store.schema import entries, ingest_claims, reports, sources
from aggregator.store.search_index import index_entries, reindex_entries
from aggregator.store.shown import refresh_entries
from aggregator.store.sources import record_health
from aggregator.store.version import bump_version

# Entry uids are uuid5 of the first report's source and identity in this namespace,
# so ingesting the same feeds into an empty store yields the same public ids.
_ENTRY_UID_NAMESPACE = uuid.UUID("6f1c5a2e-3b7d-5e8a-9c41-0d2b7e6f4a13")


# A batch of polls shares one transaction (one commit, one lock, one round of counters),
# but no more than this long: other writers (staff, retention) wait for it to commit.
BATCH_SECONDS = 1.0


class PollWriter:
    """Writes polls: each with the fingerprints its plan brings (the store never computes
    them: CPU work must not hold the write lock)."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.monotonic) -> None:
        self._db = db
        self._clock = clock

    def apply_polls(self, outcomes: Sequence[PollOutcome]) -> list[WriteCounts | StoreError]:
        """Write polls in one transaction, each behind its own savepoint: a poll the store
        refuses is rolled back alone and its StoreError is its result, in order. Stops
        starting polls after BATCH_SECONDS, so the result may be shorter than `outcomes`:
        the caller writes the rest in the next batch. Nothing is written until the batch
        commits, and each lease is released with its own poll."""
        # Decoded before the transaction: it runs under the lock new-story writers share.
        candidates = [_candidates(o.plan) if o.plan is not None else [] for o in outcomes]
        results: list[WriteCounts | StoreError] = []
        counted: list[tuple[PollOutcome, WriteCounts]] = []
        with self._db.writing() as connection:
            claimed = _claim_stories(connection, outcomes, candidates)
            started = self._clock()
            for outcome, fingerprinted in zip(outcomes, candidates, strict=True):
                if results and self._clock() - started > BATCH_SECONDS:
                    break
                try:
                    with connection.begin_nested():
                        counts = _write_poll(connection, outcome, fingerprinted)
                except IntegrityError as error:
                    results.append(
                        StoreError(
                            f"the poll of source {outcome.source_id!r} was not written, the"
                            f" store is unchanged: {error.orig}"
                        )
                    )
                    continue
                except StoreError as error:
                    results.append(error)
                    continue
                results.append(counts)
                counted.append((outcome, counts))
            if any(o.plan is not None and (o.plan.new or o.plan.changed) for o, _ in counted):
                bump_version(connection)
            record_polls(connection, counted)
            _release(connection, claimed)
        return results

    def apply_poll(self, outcome: PollOutcome) -> WriteCounts:
        """Write one poll of one source (health, then its new and changed reports) in one
        transaction, and release the source's lease. On any error nothing is written."""
        (result,) = self.apply_polls([outcome])
        if isinstance(result, StoreError):
            raise result
        return result


def _claim_stories(
    connection: Connection,
    outcomes: Sequence[PollOutcome],
    candidates: Sequence[Sequence[Candidate]],
) -> list[int]:
    """Two workers writing copies of one story at once must not both see "no entry yet"
    and create two. On SQLite every writing transaction holds the one write lock. On
    PostgreSQL writers of new reports claim what copies of a story share, their band keys
    and canonical links, in one sorted insert (so two writers cannot deadlock): a writer
    waits only for those that could find each other's entries. Staff actions and retention
    still take INGEST_LOCK alone; writers share it. The claimed keys, to release."""
    if connection.dialect.name != "postgresql":
        return []
    links = {r.canonical_link for o in outcomes if o.plan for r in o.plan.new if r.canonical_link}
    keys = sorted(
        {key for found in candidates for c in found for key in c.fingerprint.band_keys}
        | {_link_key(link) for link in links}
    )
    if not keys:
        return []
    share(connection, INGEST_LOCK)
    claim = postgresql.insert(ingest_claims).on_conflict_do_nothing()
    for chunk in chunks(keys):
        connection.execute(claim, [{"key": key} for key in chunk])
    return keys


def _release(connection: Connection, keys: Sequence[int]) -> None:
    for chunk in chunks(list(keys)):
        connection.execute(delete(ingest_claims).where(ingest_claims.c.key.in_(chunk)))


def _link_key(link: str) -> int:
    """A canonical link as a claim key: 62 bits of its hash, above every band key."""
    digest = int.from_bytes(hashlib.blake2b(link.encode(), digest_size=8).digest(), "big")
    return (1 << 62) | (digest & ((1 << 62) - 1))


def _write_poll(
    connection: Connection, outcome: PollOutcome, candidates: Sequence[Candidate]
) -> WriteCounts:
    """One poll: the source's health, lease and history, its new and changed reports, its
    pings."""
    record_health(connection, outcome)
    counts, plan = WriteCounts(), outcome.plan
    if plan is not None:  # None: a 304, an unchanged body, a failure
        categories = connection.execute(
            select(sources.c.categories).where(sources.c.id == outcome.source_id)
        ).scalar_one()
        counts = _write_plan(
            connection, plan, outcome.attempted_at, json.loads(categories), candidates
        )
        if plan.new or plan.changed:
            # WebSub: announced from the outbox, queued with what changed.
            queue_feed_pings(connection, outcome)
    record_attempt(connection, outcome, counts)
    return counts


def _write_plan(
    connection: Connection,
    plan: WritePlan,
    noticed: datetime,
    categories: list[str],
    fingerprinted: Sequence[Candidate],
) -> WriteCounts:
    same_url = _same_url_entries(connection, plan.source_id, plan.new)
    # Staff overrides refine the exact-link matches; near-duplicates complete them.
    matches = choose_entries(
        connection, plan.source_id, fingerprinted, [m.entry_id if m else None for m in same_url]
    )
    creating = [report for report, match in zip(plan.new, matches, strict=True) if not match]
    created_ids = _insert_entries(connection, creating, noticed)
    created = iter(created_ids)
    entry_ids = [match.entry_id if match else next(created) for match in matches]
    _insert_reports(connection, plan, matches, entry_ids, noticed)
    # A report that matched several entries joins them (the oldest keeps its id).
    joined = {m.entry_id: m.absorbs for m in matches if m and m.absorbs}
    for entry_id, absorbed in joined.items():
        join_entries(connection, entry_id, absorbed)
    if fingerprinted:
        index_reports(connection, plan.source_id, fingerprinted)
    _show_first_reports(connection, created_ids)
    categorise(connection, created_ids, creating, categories)
    merged_entry_ids = {m.entry_id for m in matches if m}
    add_entry_categories(connection, merged_entry_ids, categories)
    rewrite_entry_categories(connection, list(joined))
    for report, match in zip(plan.new, matches, strict=True):
        if match and report.categories:  # an alert's areas file the entry it joined too
            add_entry_categories(connection, {match.entry_id}, report.categories)
    if plan.new:
        connection.execute(
            update(sources)
            .where(sources.c.id == plan.source_id)
            .values(entries=sources.c.entries + len(plan.new))
        )
    changed_entry_ids = _update_reports(connection, plan.source_id, plan.changed)
    changed_in_sight = refresh_entries(connection, merged_entry_ids | changed_entry_ids, noticed)
    # New entries come with their documents; the index holds every report's text, shown
    # or not, so the entries a report joined, or absorbed, are documented again.
    created_documents = (
        [document for document, match in zip(plan.documents, matches, strict=True) if not match]
        if plan.documents
        else report_documents(creating)
    )
    index_entries(
        connection,
        [
            (entry_id, report.published, document)
            for entry_id, report, document in zip(
                created_ids, creating, created_documents, strict=True
            )
        ],
    )
    absorbed_ids = {entry_id for absorbed in joined.values() for entry_id in absorbed}
    reindex_entries(connection, merged_entry_ids | changed_entry_ids | absorbed_ids)
    return WriteCounts(
        new=len(created_ids),
        updated=len(changed_in_sight & changed_entry_ids),
        merged=len(plan.new) - len(created_ids),
        unchanged=plan.unchanged,
    )


def _candidates(plan: WritePlan) -> list[Candidate]:
    """The new reports as the merge compares them."""
    if len(plan.fingerprints) != len(plan.new):
        raise ValueError(
            f"the plan of {plan.source_id!r} brings {len(plan.fingerprints)} fingerprints for"
            f" {len(plan.new)} new reports: fingerprint them with aggregator.dedupe first"
        )
    if plan.documents and len(plan.documents) != len(plan.new):
        raise ValueError(
            f"the plan of {plan.source_id!r} brings {len(plan.documents)} search documents"
            f" for {len(plan.new)} new reports"
        )
    return [
        candidate_from_report(report, Fingerprint.from_bytes(stored))
        for report, stored in zip(plan.new, plan.fingerprints, strict=True)
    ]


def _same_url_entries(
    connection: Connection, source_id: str, new: Sequence[Report]
) -> list[EntryChoice | None]:
    """For each new report, the existing entry holding a report from another source with
    the same canonical link, if any.

    An entry never gets two reports from one source: a source that repeats a link under
    another identity is telling two stories.
    """
    links = sorted({r.canonical_link for r in new if r.canonical_link})
    other = reports.alias("other")
    from_this_source = exists().where(
        other.c.entry_id == reports.c.entry_id, other.c.source_id == source_id
    )
    entry_by_link: dict[str, int] = {}
    for chunk in chunks(links):
        rows = connection.execute(
            select(reports.c.canonical_link, func.min(reports.c.entry_id))
            .where(
                reports.c.canonical_link.in_(chunk),
                reports.c.source_id != source_id,
                ~from_this_source,
            )
            .group_by(reports.c.canonical_link)
        )
        entry_by_link.update({link: entry_id for link, entry_id in rows})
    matches: list[EntryChoice | None] = []
    joined: set[int] = set()
    for report in new:
        entry_id = entry_by_link.get(report.canonical_link or "")
        if entry_id is None or entry_id in joined:
            matches.append(None)
        else:
            joined.add(entry_id)
            matches.append(EntryChoice(entry_id, "same-url"))
    return matches


def _entry_uid(report: Report) -> str:
    return str(uuid.uuid5(_ENTRY_UID_NAMESPACE, f"{report.source_id}\n{report.identity}"))


def _insert_entries(
    connection: Connection, creating: Sequence[Report], noticed: datetime
) -> list[int]:
    """Insert an entry for each report; return their ids, in order."""
    uids = [_entry_uid(report) for report in creating]
    if not uids:
        return []
    # A plain executemany, then the ids by uid: RETURNING in parameter order makes SQLite
    # insert one row per statement.
    connection.execute(
        insert(entries),
        [
            {
                "uid": uid,
                "title": report.title,
                "link": report.link,
                "summary": report.summary,
                "content": report.content,
                "published": report.published,
                "updated": report.updated,
                "first_seen": noticed,
            }
            for uid, report in zip(uids, creating, strict=True)
        ],
    )
    id_by_uid: dict[str, int] = {}
    for chunk in chunks(uids):
        rows = connection.execute(
            select(entries.c.uid, entries.c.id).where(entries.c.uid.in_(chunk))
        )
        id_by_uid.update((uid, entry_id) for uid, entry_id in rows)
    return [id_by_uid[uid] for uid in uids]


def _insert_reports(
    connection: Connection,
    plan: WritePlan,
    matches: Sequence[EntryChoice | None],
    entry_ids: Sequence[int],
    noticed: datetime,
) -> None:
    new = plan.new
    if not new:
        return
    connection.execute(
        insert(reports),
        [
            _report_values(report)
            | {
                "entry_id": entry_id,
                "source_id": report.source_id,
                "identity": report.identity,
                "first_seen": noticed,
                "merge_rule": match.rule if match else "first",
                "merge_score": match.score if match else None,
                "fingerprint": fingerprint,
            }
            for report, match, entry_id, fingerprint in zip(
                new, matches, entry_ids, plan.fingerprints, strict=True
            )
        ],
    )


def _show_first_reports(connection: Connection, created_ids: Sequence[int]) -> None:
    """Point each new entry at its one report."""
    first_report = (
        select(func.min(reports.c.id)).where(reports.c.entry_id == entries.c.id).scalar_subquery()
    )
    for chunk in chunks(created_ids):
        connection.execute(
            update(entries).where(entries.c.id.in_(chunk)).values(shown_report_id=first_report)
        )


def _report_values(report: Report) -> dict[str, Any]:
    """The columns of a report that a later poll may change."""
    return {
        "title": report.title,
        "link": report.link,
        "canonical_link": report.canonical_link,
        "summary": report.summary,
        "content": report.content,
        "content_hash": report.content_hash,
        "published": report.published,
        "published_has_time": report.published_has_time,
        "updated": report.updated,
        "author": report.author,
        "agency": report.agency,
        "severity": report.severity,
        "expires": report.expires,
        "attachments": json.dumps(report.attachments) if report.attachments else None,
        "categories": json.dumps(report.categories) if report.categories else None,
    }


def _update_reports(connection: Connection, source_id: str, changed: Sequence[Report]) -> set[int]:
    """Rewrite the changed reports; return the ids of their entries."""
    if not changed:
        return set()
    first = _report_values(changed[0])
    connection.execute(
        update(reports)
        .where(reports.c.source_id == source_id, reports.c.identity == bindparam("b_identity"))
        .values({name: bindparam(f"b_{name}") for name in first}),
        [
            {f"b_{name}": value for name, value in _report_values(report).items()}
            | {"b_identity": report.identity}
            for report in changed
        ],
    )
    entry_ids: set[int] = set()
    for chunk in chunks([report.identity for report in changed]):
        entry_ids.update(
            connection.scalars(
                select(reports.c.entry_id).where(
                    reports.c.source_id == source_id, reports.c.identity.in_(chunk)
                )
            )
        )
    return entry_ids
