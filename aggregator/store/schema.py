"""The store's tables, as SQLAlchemy Core metadata: one schema for SQLite and PostgreSQL.

The Alembic migrations in `aggregator/store/migrations/` create exactly these tables; a test
compares a migrated database with this metadata.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    true,
)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes in and out.

    PostgreSQL keeps `timestamptz`; SQLite keeps naive UTC as fixed-width ISO text, which
    sorts in time order, so indexes and keyset comparisons work the same on both.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} given to the store: give UTC")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

sources = Table(
    "sources",
    metadata,
    Column("id", String(200), primary_key=True),  # the slug from feeds.yaml
    # mirror of the configuration
    Column("url", Text, nullable=False),
    Column("title", Text),
    Column("categories", Text, nullable=False),  # JSON list of category slugs
    Column("interval_s", Integer, nullable=False),
    Column("priority", Integer, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("removed", Boolean, nullable=False),  # gone from feeds.yaml: not polled, entries kept
    # what the feed says about itself
    Column("feed_title", Text),
    Column("feed_link", Text),
    # health and poll state
    Column("etag", Text),
    Column("last_modified", Text),
    Column("body_hash", String(64)),
    Column("last_attempt", UTCDateTime),
    Column("last_success", UTCDateTime),
    Column("last_error", Text),
    Column("notes", Text),  # the last parsed poll's notes, one a line: fields cut, dates unused
    Column("last_http_status", Integer),
    Column("failures", Integer, nullable=False),  # consecutive
    Column("next_poll", UTCDateTime),
    Column("entries", Integer, nullable=False),  # how many reports it made
    Column("lease_owner", String(200)),
    Column("lease_until", UTCDateTime),
    # the URL's host name, lowercased: claims keep per-host politeness across workers
    Column("host", String(255)),
    Index(None, "next_poll"),
    Index(None, "host", "lease_until"),
)

entries = Table(
    "entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("uid", String(36), nullable=False, unique=True),  # public, stable
    Column("title", Text, nullable=False),
    Column("link", Text),
    Column("summary", Text, nullable=False),
    Column("content", Text, nullable=False),
    Column("published", UTCDateTime, nullable=False),
    Column("updated", UTCDateTime, nullable=False),
    Column("first_seen", UTCDateTime, nullable=False),
    # Not a foreign key: reports already reference entries, and a cycle of foreign keys
    # would make every insert a two-step dance. The store keeps it pointing at a report.
    Column("shown_report_id", Integer),
)
Index("ix_entries_published_id", entries.c.published.desc(), entries.c.id.desc())

reports = Table(
    "reports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("entry_id", Integer, ForeignKey("entries.id"), nullable=False),
    Column("source_id", String(200), ForeignKey("sources.id"), nullable=False),
    Column("identity", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("link", Text),
    Column("canonical_link", Text, index=True),
    Column("summary", Text, nullable=False),
    Column("content", Text, nullable=False),
    Column("content_hash", String(128), nullable=False),
    Column("published", UTCDateTime, nullable=False),
    Column("updated", UTCDateTime, nullable=False),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("author", Text),
    Column("agency", Text),  # the government unit that issued it (發布單位)
    Column("severity", String(100)),  # an alert's, in CAP's words
    Column("expires", UTCDateTime),  # an alert's: from then on it is hidden, not deleted
    # False when the feed gave a day but no time of day: `published` is that day's midnight
    # in the site's zone, shown as a date.
    Column("published_has_time", Boolean, nullable=False, server_default=true()),
    Column("attachments", Text),  # JSON list of URLs (follow: true), None when there are none
    # JSON list of the categories it files its entry under beyond its source's (an alert's
    # areas), None when there are none: a join or split recomputes the entry's from them.
    Column("categories", Text),
    Column("merge_rule", String(40), nullable=False),  # why it joined its entry
    Column("merge_score", Float),
    # the near-duplicate fingerprint (aggregator.dedupe.Fingerprint.to_bytes); None before 0005
    Column("fingerprint", LargeBinary),
    UniqueConstraint("source_id", "identity"),
    Index(None, "source_id", "published", "entry_id"),
    Index(None, "entry_id"),
)

# Denormalised so that a category page is one index range scan.
entry_categories = Table(
    "entry_categories",
    metadata,
    Column("category", String(200), primary_key=True),
    Column("published", UTCDateTime, primary_key=True),
    Column("entry_id", Integer, ForeignKey("entries.id"), primary_key=True),
    Index(None, "entry_id"),
)

store_meta = Table(
    "store_meta",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

# --- watches, alerts and metrics (store/alerts.py, store/pollstats.py) ----------------------
# No foreign keys to entries: retention deletes entries, and a match or a sent alert outlives
# them harmlessly (reads join and drop what is gone).

# One row per (watch, entry) that matched: the watch's feed, and the proof that the entry was
# already announced, so re-polls, merges and restarts never notify twice.
watch_matches = Table(
    "watch_matches",
    metadata,
    Column("watch", String(200), primary_key=True),
    Column("entry_id", Integer, primary_key=True),
    Column("matched_at", UTCDateTime, nullable=False),
    Index(None, "watch", "matched_at"),
)

# Per watch: since when it exists (older entries never fire it) and up to when it was scanned.
watch_scans = Table(
    "watch_scans",
    metadata,
    Column("watch", String(200), primary_key=True),
    Column("active_since", UTCDateTime, nullable=False),
    Column("scanned_until", UTCDateTime, nullable=False),
)

# The outbox of POSTs (webhooks, WebSub pings), written in the transaction that decided them.
notifications = Table(
    "notifications",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("dedupe_key", String(400), nullable=False, unique=True),
    Column("url", Text, nullable=False),
    Column("payload", Text, nullable=False),  # the body: JSON, or a WebSub ping's form
    Column("content_type", String(100), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt", UTCDateTime),  # None once delivered or given up
    Column("delivered_at", UTCDateTime),
    Column("last_error", Text),
    Index(None, "next_attempt"),
)

# A source's open silence episode; the row goes when the source speaks again.
silence_episodes = Table(
    "silence_episodes",
    metadata,
    Column("source_id", String(200), primary_key=True),
    Column("reason", String(20), nullable=False),
    Column("since", UTCDateTime),
    Column("flagged_at", UTCDateTime, nullable=False),
)

# Counters that the web process reads and every worker adds to, inside the poll transaction.
metric_counters = Table(
    "metric_counters",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("label", String(100), primary_key=True),  # "" for an unlabelled counter
    Column("value", BigInteger, nullable=False),
)

# Arrivals per source over time: cadence learning and the /sources charts.
Index("ix_reports_source_id_first_seen", reports.c.source_id, reports.c.first_seen)
# New entries by time: the watch scan.
Index("ix_entries_first_seen", entries.c.first_seen)

# --- near-duplicate merging (aggregator/store/merge.py) -----------------------------------------

# The candidate index: each report's LSH band keys, looked up by key (then by the report's
# date: title keys such as 市長今日公開行程 recur daily). Rows go with their report. Every new
# report adds some 22 rows at random places in the key order, which is most of what merging
# costs a write, so the rows are kept small: integer keys, no date (the report has it), and
# on SQLite no rowid (the primary key is the table).
merge_bands = Table(
    "merge_bands",
    metadata,
    Column("band_key", BigInteger, primary_key=True),
    Column(
        "report_id", Integer, ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True
    ),
    Index(None, "report_id"),
    sqlite_with_rowid=False,
)

# PostgreSQL: what copies of one story share (their band keys, their canonical link), claimed
# by the writer of new reports. Inserting a key waits for another transaction's uncommitted
# insert of it, so only writers that could find each other's entries take turns; each deletes
# its keys before it commits, so the table is empty between transactions.
ingest_claims = Table(
    "ingest_claims",
    metadata,
    Column("key", BigInteger, primary_key=True, autoincrement=False),
)

# Staff decisions that outlive re-polls, by the reports' stable (source, identity):
# "apart" pairs never merge again, "together" pairs stay merged. Stored in both directions.
merge_overrides = Table(
    "merge_overrides",
    metadata,
    Column("source_id", String(200), primary_key=True),
    Column("identity", Text, primary_key=True),
    Column("other_source_id", String(200), primary_key=True),
    Column("other_identity", Text, primary_key=True),
    Column("kind", String(10), nullable=False),  # "apart" or "together"
    Column("created_at", UTCDateTime, nullable=False),
)

# The public id of an entry that a later report joined to an older one: links to it still
# find the story, now told by the entry that absorbed it.
entry_aliases = Table(
    "entry_aliases",
    metadata,
    Column("uid", String(36), primary_key=True),
    Column(
        "entry_id",
        Integer,
        ForeignKey("entries.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
)

# Every staff action: who (the name given at sign-in, or the CLI user), what, when.
staff_actions = Table(
    "staff_actions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(40), nullable=False),
    Column("entry_uid", String(36), nullable=False),
    Column("detail", Text, nullable=False),  # JSON: what the action was given and did
    Index(None, "at"),
)

# --- poll attempts (aggregator/store/attempts.py) -----------------------------------------------

# The last few polls of each source, for its page: what each one brought or why it failed.
# Bounded: each write prunes the source's rows beyond attempts.KEPT_PER_SOURCE.
poll_attempts = Table(
    "poll_attempts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source_id", String(200), ForeignKey("sources.id"), nullable=False),
    Column("attempted_at", UTCDateTime, nullable=False),
    Column("status", String(20), nullable=False),  # a PollStatus
    Column("new_reports", Integer, nullable=False),
    Column("updated_reports", Integer, nullable=False),
    Column("http_status", Integer),
    Column("elapsed_ms", Integer, nullable=False),
    Column("error", Text),
    Index(None, "source_id", "attempted_at"),
)

# --- staff accounts (aggregator/store/staff_accounts.py) -------------------------------------

# Named staff accounts. `session_generation` is part of every session of the account:
# signing out (or a new password) raises it, and sessions carrying an older one are void.
staff_accounts = Table(
    "staff_accounts",
    metadata,
    Column("name", String(80), primary_key=True),
    Column("password_hash", String(200), nullable=False),
    Column("session_generation", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# Failed sign-ins per address ("address:...") and per account ("account:..."): each one
# lengthens the wait before the next try, across every web process.
sign_in_failures = Table(
    "sign_in_failures",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("blocked_until", UTCDateTime, nullable=False),
)

# Secrets the site makes for itself, such as the session signing key when
# $AGGREGATOR_SECRET_KEY is not set: made once, shared by every process.
site_secrets = Table(
    "site_secrets",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("value", String(200), nullable=False),
)
