"""Decide what one poll writes: entry identity within a source and change detection.

Pure functions: a parsed feed plus what the store already knows of the source
goes in, a `WritePlan` comes out. Nothing here touches the network or the store.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from aggregator.models import KnownReport, ParsedEntry, ParsedFeed, Report, WritePlan

# Query parameters that only say where a click came from; two URLs that differ in
# them point at the same article.
_TRACKING_PREFIXES = ("utm_", "mc_", "pk_", "hsa_", "_hs")
_TRACKING_NAMES = frozenset(
    {"fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "igshid",
     "twclid", "ttclid", "spm", "_ga", "_gl", "ocid", "cmpid", "from", "ref", "feature"}
)
_WHITESPACE = re.compile(r"\s+")
_URL_IN_HTML = re.compile(r"""(?:href|src)=["']([^"']+)["']""")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# A poll takes at most this many new reports, the newest first; the rest wait for the next
# polls. Bounds the memory, the fingerprinting and the write transaction of one poll
# whatever the feed holds (one offered 100,000 entries).
MAX_NEW_REPORTS = 1_000
# Identities and canonical links are index keys (PostgreSQL's btree takes at most 2,704
# bytes a row): a longer identity is replaced by its hash, a longer canonical link is not
# used for matching.
MAX_KEY_BYTES = 1_000


def canonical_url(url: str) -> str:
    """The URL with what does not change the article removed: tracking parameters,
    the fragment, default ports, host case. Remaining parameters are sorted so
    their order does not matter."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return url.strip()
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if port is not None and (scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    query = sorted(
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if not _is_tracking_parameter(name)
    )
    return urlunsplit((scheme, host, parts.path or "/", urlencode(query), ""))


def _is_tracking_parameter(name: str) -> bool:
    lowered = name.lower()
    return lowered in _TRACKING_NAMES or lowered.startswith(_TRACKING_PREFIXES)


def content_hash(title: str, link: str | None, content: str) -> str:
    """A hash that ignores cosmetic churn: whitespace and tracking parameters,
    in the entry's own link and in the links inside its content."""
    body = _URL_IN_HTML.sub(lambda m: f'href="{canonical_url(m.group(1))}"', content)
    parts = (
        _WHITESPACE.sub(" ", title).strip(),
        canonical_url(link) if link else "",
        _WHITESPACE.sub(" ", body).strip(),
    )
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def shared_links(entries: Iterable[ParsedEntry]) -> frozenset[str]:
    """Canonical links carried by more than one guid-less entry of a feed: such a
    link (often the site's home page) cannot identify an entry on its own."""
    seen: set[str] = set()
    shared: set[str] = set()
    for entry in entries:
        if entry.guid or not entry.link:
            continue
        link = canonical_url(entry.link)
        (shared if link in seen else seen).add(link)
    return frozenset(shared)


def identify(entry: ParsedEntry, shared: frozenset[str]) -> str:
    """An entry's identity within its source: its guid, else its link when no other
    entry shares it, else a hash of its title and content. An identity too long for the
    store's index is its hash."""
    if entry.guid:
        return _bounded("guid", entry.guid.strip())
    if entry.link and canonical_url(entry.link) not in shared:
        return _bounded("link", canonical_url(entry.link))
    text = f"{_WHITESPACE.sub(' ', entry.title).strip()}\x1f{_WHITESPACE.sub(' ', entry.content)}"
    return "hash:" + _digest(text)


def _bounded(kind: str, value: str) -> str:
    identity = f"{kind}:{value}"
    if len(identity.encode("utf-8")) <= MAX_KEY_BYTES:
        return identity
    return f"{kind}-hash:{_digest(value)}"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def plan_writes(
    source_id: str,
    feed: ParsedFeed,
    known: Mapping[str, KnownReport],
    fetched_at: datetime,
) -> WritePlan:
    """What this poll of `source_id` writes: new reports, changed ones, and how
    many were already stored unchanged."""
    shared = shared_links(feed.entries)
    chosen: dict[str, tuple[tuple[datetime, str], Report]] = {}
    for entry in feed.entries:
        identity = identify(entry, shared)
        report = _report(source_id, identity, entry, known.get(identity), fetched_at)
        # Several items with one guid: keep the newest, ties broken by content, so
        # the same feed always yields the same report whatever the item order.
        rank = (entry.updated or entry.published or _EPOCH, report.content_hash)
        current = chosen.get(identity)
        if current is None or rank > current[0]:
            chosen[identity] = (rank, report)

    new: list[tuple[tuple[datetime, str], Report]] = []
    changed: list[Report] = []
    unchanged = 0
    for identity, (rank, report) in chosen.items():
        previous = known.get(identity)
        if previous is None:
            new.append((rank, report))
        elif previous.content_hash != report.content_hash:
            changed.append(report)
        else:
            unchanged += 1
    new.sort(key=lambda ranked: ranked[0], reverse=True)
    taken = tuple(report for _, report in new[:MAX_NEW_REPORTS])
    deferred = len(new) - len(taken)
    notes = feed.notes
    if deferred:
        notes += (
            f"the feed offered {len(new):,} new entries; a poll takes the newest "
            f"{MAX_NEW_REPORTS:,}, so {deferred:,} older ones wait for the next polls",
        )
    return WritePlan(source_id=source_id, new=taken, changed=tuple(changed),
                     unchanged=unchanged, deferred=deferred, notes=notes)


def _matching_link(link: str | None) -> str | None:
    canonical = canonical_url(link) if link else None
    if canonical is None or len(canonical.encode("utf-8")) > MAX_KEY_BYTES:
        return None
    return canonical


def _report(
    source_id: str,
    identity: str,
    entry: ParsedEntry,
    previous: KnownReport | None,
    fetched_at: datetime,
) -> Report:
    # A feed without dates must not make its entries look new on every poll:
    # the first-seen time, once stored, stays their publication time.
    published = entry.published or (previous.published if previous else fetched_at)
    if previous is None:
        updated = entry.updated or published
    else:
        # A changed entry's update time moves; the feed's own time is used when
        # it says something newer than what we stored.
        updated = entry.updated if entry.updated and entry.updated > previous.published \
            else fetched_at
    return Report(
        source_id=source_id,
        identity=identity,
        title=entry.title,
        link=entry.link,
        canonical_link=_matching_link(entry.link),
        summary=entry.summary,
        content=entry.content,
        published=published,
        # The first-seen time (no date in the feed) has a time of day.
        published_has_time=entry.published_has_time or entry.published is None,
        updated=max(updated, published),
        content_hash=content_hash(entry.title, entry.link, entry.content),
        author=entry.author,
        tags=entry.tags,
        agency=entry.agency,
        expires=entry.expires,
        severity=entry.severity,
        categories=entry.categories,
    )
