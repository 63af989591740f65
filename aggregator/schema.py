"""The store's tables, as SQLAlchemy Core metadata: one schema for SQLite and PostgreSQL.

The Alembic migrations in `aggregator/migrations/` create exactly these tables; a test
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
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
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
    Column("last_http_status", Integer),
    Column("failures", Integer, nullable=False),  # consecutive
    Column("next_poll", UTCDateTime),
    Column("entries", Integer, nullable=False),  # how many reports it made
    Column("lease_owner", String(200)),
    Column("lease_until", UTCDateTime),
    Index(None, "next_poll"),
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
    Column("merge_rule", String(40), nullable=False),  # why it joined its entry
    Column("merge_score", Float),
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
