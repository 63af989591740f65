"""The typed values that cross the pipeline's stage boundaries.

config → fetch → parse → decide → store: each stage takes and returns these
frozen dataclasses, so a stage can be read, tested and replaced on its own.
All datetimes are timezone-aware and in UTC once they leave the parser.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

# --- config -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Category:
    slug: str
    title: str
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Settings:
    interval: timedelta = timedelta(minutes=15)
    timezone: str = "Asia/Taipei"
    # The public address of the site; None: each request's own (see `trusted_proxies`).
    base_url: str | None = None
    # How many reverse proxies in front set X-Forwarded-For/-Proto/-Host/-Prefix; 0 (the
    # default) ignores those headers, which any client could otherwise forge.
    trusted_proxies: int = 0
    allow_private_addresses: bool = False
    retention_days: int = 365
    websub_hub: str | None = None


SourceKind = Literal["feed", "opendata", "html", "cap"]
SOURCE_KINDS: tuple[SourceKind, ...] = ("feed", "opendata", "html", "cap")


@dataclass(frozen=True, slots=True)
class OpenDataFields:
    """Which key of a government OpenData JSON object holds each part of an entry; None:
    recognised among the usual keys (標題, 連結, 發布日期, 內容, 發布單位, title, url, ...)."""

    id: str | None = None
    title: str | None = None
    link: str | None = None
    published: str | None = None
    updated: str | None = None
    summary: str | None = None
    content: str | None = None
    agency: str | None = None
    category: str | None = None


@dataclass(frozen=True, slots=True)
class ListSelectors:
    """CSS selectors that find the news items on a list page that has no feed."""

    item: str  # one element per news item
    title: str  # within an item: its text is the headline
    link: str  # within an item: its href (or its first link's) is the item's page
    date: str | None = None
    summary: str | None = None


@dataclass(frozen=True, slots=True)
class SourceFormat:
    """How a source's responses are read: its `kind` and that kind's options."""

    kind: SourceKind = "feed"
    fields: OpenDataFields = field(default_factory=OpenDataFields)  # feed, opendata
    selectors: ListSelectors | None = None  # html (required there)
    follow: bool = False  # html: fetch each new item's page once for its full text...
    content: str | None = None  # ...the element this selector finds there
    # cap: an alert's area name (cap:areaDesc) or geocode value → the category it goes to.
    areas: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Source:
    id: str
    url: str
    categories: tuple[str, ...]
    interval: timedelta
    timezone: str
    title: str | None = None
    enabled: bool = True
    priority: int = 0
    format: SourceFormat = field(default_factory=SourceFormat)


@dataclass(frozen=True, slots=True)
class Watch:
    name: str
    query: str
    categories: tuple[str, ...] = ()
    webhook: str | None = None


@dataclass(frozen=True, slots=True)
class Config:
    path: str
    settings: Settings
    categories: Mapping[str, Category]
    sources: tuple[Source, ...]
    watches: tuple[Watch, ...] = ()


# --- fetch ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Validators:
    """What the last successful response told us, sent back as a conditional GET."""

    etag: str | None = None
    last_modified: str | None = None


FetchStatus = Literal["ok", "not_modified", "error"]


@dataclass(frozen=True, slots=True)
class FetchResult:
    source_id: str
    url: str  # the final URL, after redirects
    status: FetchStatus
    fetched_at: datetime
    elapsed_ms: int
    http_status: int | None = None
    body: bytes | None = None
    content_type: str | None = None  # the Content-Type header as sent
    validators: Validators = field(default_factory=Validators)
    error: str | None = None  # words a person can act on
    retry_after: datetime | None = None  # from Retry-After on 429/503


# --- parse ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ParsedEntry:
    """One item of a feed, cleaned: text fields are plain text, HTML is sanitised."""

    guid: str | None
    link: str | None
    title: str
    summary: str  # sanitised HTML
    content: str  # sanitised HTML; the summary when the feed has no full content
    published: datetime | None  # UTC; None when the feed gives no date
    updated: datetime | None
    # False when the feed gave a day without a time: `published` is its midnight, shown as a date.
    published_has_time: bool = True
    author: str | None = None
    tags: tuple[str, ...] = ()
    agency: str | None = None  # the government unit that issued it (發布單位)
    # Alerts (kind cap): when the alert stops being in force, how severe, where it applies.
    expires: datetime | None = None  # UTC
    severity: str | None = None  # CAP's words: Extreme, Severe, Moderate, Minor, Unknown
    areas: tuple[AlertArea, ...] = ()
    # Categories beyond its source's: where the source's `areas:` sends an alert.
    categories: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AlertArea:
    """One area an alert applies to: its description (cap:areaDesc, such as 高雄市) and the
    values of its geocodes."""

    name: str
    geocodes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ItemPage:
    """What an html source's item page adds to its list entry (`follow: true`)."""

    content: str  # sanitised HTML: the element the source's `content` selector finds
    attachments: tuple[str, ...] = ()  # absolute URLs of the documents (PDF) it links to


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str | None
    link: str | None
    entries: tuple[ParsedEntry, ...]
    # What cleaning had to do to the feed (fields cut to size, dates not usable), in words
    # for the source's health.
    notes: tuple[str, ...] = ()


# --- decide -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Report:
    """One source's report of a story: what decide hands the store to write."""

    source_id: str
    identity: str  # stable within the source: guid, else link, else a content hash
    title: str
    link: str | None
    canonical_link: str | None  # link without tracking parameters, for cross-source matching
    summary: str
    content: str
    published: datetime  # never None: first-seen when the feed gives no date
    updated: datetime
    content_hash: str  # of the normalised title and content: churn-insensitive
    published_has_time: bool = True  # False: a day without a time, shown as a date
    author: str | None = None
    tags: tuple[str, ...] = ()
    agency: str | None = None  # 發布單位
    expires: datetime | None = None  # an alert's: hidden from readers from then on
    severity: str | None = None  # an alert's
    categories: tuple[str, ...] = ()  # beyond its source's (an alert's areas)
    attachments: tuple[str, ...] = ()  # URLs of documents its page links to (follow: true)


@dataclass(frozen=True, slots=True)
class KnownReport:
    """What the store already holds for one identity of one source."""

    identity: str
    content_hash: str
    published: datetime


@dataclass(frozen=True, slots=True)
class IndexDocument:
    """What the search index holds for an entry: the index tokens of its title and of its
    clean text, each space-separated (see `aggregator.search.document`)."""

    title: str
    body: str


@dataclass(frozen=True, slots=True)
class WritePlan:
    """Everything one poll of one source writes, applied in one transaction."""

    source_id: str
    new: tuple[Report, ...]
    changed: tuple[Report, ...]
    unchanged: int
    # One `Fingerprint.to_bytes()` per new report, in order: the poller computes them off
    # the writer thread (in its parse processes); the store only stores and compares them.
    fingerprints: tuple[bytes, ...] = ()
    # One search document per new report, in order, for the entry it makes if it joins
    # none (`aggregator.search.document`); computed off the writer thread like the
    # fingerprints. Empty: the store computes them.
    documents: tuple[IndexDocument, ...] = ()
    # New reports left for a later poll (a poll takes at most decide.MAX_NEW_REPORTS).
    deferred: int = 0
    notes: tuple[str, ...] = ()  # the feed's notes and the plan's own, for the health


# --- store (read side) ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SourceReport:
    """One report attached to a stored entry, as the API's `sources` lists it."""

    source_id: str
    source_title: str
    title: str
    link: str | None
    published: datetime
    published_has_time: bool = True  # False: a day without a time, shown as a date


@dataclass(frozen=True, slots=True)
class StoredEntry:
    id: str  # public, stable: never changes once the entry exists
    title: str
    link: str | None
    summary: str
    content: str
    published: datetime
    updated: datetime
    categories: tuple[str, ...]
    reports: tuple[SourceReport, ...]  # the first is the one shown
    # The shown report's: who issued it (發布單位), and an alert's severity and expiry.
    agency: str | None = None
    severity: str | None = None
    expires: datetime | None = None
    attachments: tuple[str, ...] = ()  # URLs, enclosures in the feeds
    published_has_time: bool = True  # the shown report's: False shows `published` as a date


@dataclass(frozen=True, slots=True)
class StoryReport:
    """One report of an entry with its own words, for the story page."""

    report: SourceReport
    content: str  # sanitised HTML


@dataclass(frozen=True, slots=True)
class Story:
    """An entry with every report's own text: the shown report first."""

    entry: StoredEntry
    reports: tuple[StoryReport, ...]


SourceStatus = Literal["ok", "failing", "never"]


@dataclass(frozen=True, slots=True)
class SourceHealth:
    id: str
    title: str
    url: str
    categories: tuple[str, ...]
    status: SourceStatus
    last_attempt: datetime | None
    last_success: datetime | None
    last_error: str | None
    failures: int
    entries: int
    next_poll: datetime | None
    notes: tuple[str, ...] = ()  # what the last parsed poll had to cut or could not use


# --- poll bookkeeping (between scheduler, decide and store) -------------------


@dataclass(frozen=True, slots=True)
class SourceState:
    """What the store remembers of a source between polls."""

    source_id: str
    validators: Validators
    body_hash: str | None  # sha256 of the last body parsed: an identical body skips the parse
    failures: int  # consecutive
    next_poll: datetime | None


PollStatus = Literal["ok", "not_modified", "unchanged_body", "failed"]


@dataclass(frozen=True, slots=True)
class OutboundPost:
    """A POST that the outbox delivers: a webhook's JSON, or a WebSub ping."""

    url: str
    body: str
    content_type: str


@dataclass(frozen=True, slots=True)
class FeedPings:
    """The WebSub pings that announce each output feed: a poll that changes what a feed
    shows queues that feed's pings in its own transaction."""

    all_feed: tuple[OutboundPost, ...]  # every category's entries: any change shows here
    by_category: Mapping[str, tuple[OutboundPost, ...]]



@dataclass(frozen=True, slots=True)
class PollAttempt:
    """One poll of a source, as its page lists it."""

    attempted_at: datetime
    status: PollStatus
    new_reports: int  # reports this poll brought (new stories and copies of known ones)
    updated_reports: int
    http_status: int | None
    elapsed_ms: int
    error: str | None


@dataclass(frozen=True, slots=True)
class PollOutcome:
    """The result of one poll of one source, written by the store in one transaction."""

    source_id: str
    attempted_at: datetime
    status: PollStatus
    elapsed_ms: int
    next_poll: datetime
    http_status: int | None = None
    error: str | None = None
    validators: Validators = field(default_factory=Validators)
    body_hash: str | None = None
    feed_title: str | None = None
    feed_link: str | None = None
    plan: WritePlan | None = None
    pings: FeedPings | None = None  # None: no WebSub hub to tell about changed feeds


@dataclass(frozen=True, slots=True)
class WriteCounts:
    new: int = 0
    updated: int = 0
    merged: int = 0  # new reports attached to an existing entry of another source
    unchanged: int = 0


@dataclass(frozen=True, slots=True)
class EntryQuery:
    """A page of the river of news, newest first. `cursor` comes from the previous page."""

    category: str | None = None
    source: str | None = None
    limit: int = 50
    cursor: str | None = None
    # Entries whose shown alert expired by then are left out; None: by the time of the read.
    now: datetime | None = None


@dataclass(frozen=True, slots=True)
class EntryPage:
    entries: tuple[StoredEntry, ...]
    next_cursor: str | None


# --- merging: the staff view ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class MergedReport:
    """One report of an entry with why it joined: `merge_rule` is "first" for the report
    that made the entry, else "same-url", a near-duplicate rule of `aggregator.dedupe`
    (with `merge_score`), "forced" or "split" (staff)."""

    source_id: str
    source_title: str
    title: str
    link: str | None
    published: datetime
    merge_rule: str
    merge_score: float | None
    shown: bool
    published_has_time: bool = True  # False: a day without a time, shown as a date


@dataclass(frozen=True, slots=True)
class StaffAction:
    """One logged staff action: who did what to which entry, and when."""

    at: datetime
    actor: str
    action: str  # "split" or "force-merge"
    entry_uid: str
    detail: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class StaffEntry:
    entry: StoredEntry
    reports: tuple[MergedReport, ...]  # the shown one first
    actions: tuple[StaffAction, ...]  # newest first


# --- alerting: what the store holds for watches and silence ---------------------


@dataclass(frozen=True, slots=True)
class CandidateEntry:
    """What a watch looks at in a new entry."""

    id: int
    title: str
    contents: tuple[str, ...]  # sanitised HTML: the entry's content, then each report's
    published: datetime
    first_seen: datetime
    categories: frozenset[str]
    sources: frozenset[str]


@dataclass(frozen=True, slots=True)
class WatchScan:
    """The entries a watch pass looks at: those first seen since the earliest of
    `since`, and for each watch the first-seen time from which it looks."""

    since: Mapping[str, datetime]  # by watch name
    candidates: tuple[CandidateEntry, ...]


@dataclass(frozen=True, slots=True)
class Arrival:
    """One poll that brought new reports: their first-seen time, and how many."""

    at: datetime
    reports: int


@dataclass(frozen=True, slots=True)
class SourceActivity:
    """One source's recent history, as the store has it."""

    source_id: str
    arrivals: tuple[Arrival, ...]  # since the time asked for, oldest first
    last_arrival: datetime | None  # ever, not only within that time
    last_success: datetime | None
    last_error: str | None  # of the latest poll; None when it succeeded


SilenceReason = Literal["quiet", "no_new", "html"]


@dataclass(frozen=True, slots=True)
class Silence:
    """A source's silence verdict: `reason` is None when it is not silent."""

    reason: SilenceReason | None
    since: datetime | None = None  # when it last brought something new (or last gave a feed)
    usual_gap: timedelta | None = None  # None until there is history enough to learn it

    @property
    def silent(self) -> bool:
        return self.reason is not None


# Upper bounds of the fetch latency histogram, in seconds (the fetch deadline is 30 s).
LATENCY_BUCKETS: tuple[float, ...] = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
INFINITY = "+Inf"

POLLS = "polls"  # label: the poll status
ENTRIES = "entries"  # label: new, updated
MERGES = "merges"
LATENCY_BUCKET = "fetch_latency_bucket"  # label: the bucket's upper bound; not cumulative
LATENCY_SUM_MS = "fetch_latency_sum_ms"
LATENCY_COUNT = "fetch_latency_count"


@dataclass(frozen=True, slots=True)
class PollStats:
    """Every counter, as (name, label) → value; a counter never incremented is absent."""

    counters: Mapping[tuple[str, str], int]

    def value(self, name: str, label: str = "") -> int:
        return self.counters.get((name, label), 0)

    def latency_buckets(self) -> list[tuple[str, int]]:
        """(upper bound, cumulative count) for each bucket, then +Inf: Prometheus's shape."""
        cumulative = 0
        buckets: list[tuple[str, int]] = []
        for bound in (*(bound_label(b) for b in LATENCY_BUCKETS), INFINITY):
            cumulative += self.value(LATENCY_BUCKET, bound)
            buckets.append((bound, cumulative))
        return buckets


def bound_label(bound: float) -> str:
    return f"{bound:g}"


@dataclass(frozen=True, slots=True)
class CacheCounts:
    """One web process's response cache since it started, for /metrics."""

    hits: int = 0
    misses: int = 0  # answers Flask was asked for
    evictions: int = 0  # answers pushed out to stay within the byte bound
    bytes: int = 0  # held now
    max_bytes: int = 0
