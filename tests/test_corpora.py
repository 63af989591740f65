"""Other people's corpora: every feed of feedparser's and the W3C feed validator's test
suites, served over HTTP as a source and polled (see ../shared/corpora/README.md).

What every file gets: the pass completes; the source ends healthy with its entries stored
once (a second poll of a re-sent body stores nothing new) or failing with a reason a person
can act on; nothing stored or served carries script, event handlers or `javascript:` URLs;
every Atom and RSS document served parses as XML.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree

import pytest

from aggregator.config.load import load_config
from aggregator.fetch.fetcher import Fetcher
from aggregator.models import EntryQuery, SourceHealth, StoredEntry
from aggregator.schedule.poll import Poller
from aggregator.store import Store
from aggregator.web import create_app
from tests.feedserver import FeedServer

CORPORA = Path(__file__).resolve().parents[1].parent / "shared" / "corpora"
FOLDERS = (
    "feedparser/tests/wellformed",
    "feedparser/tests/illformed",
    "feedparser/tests/encoding",
    "feedparser/tests/json",
    "w3c/testcases/atom",
    "w3c/testcases/rss",
    "w3c/testcases/rss20",
)
PASS_SIZE = 400

# What would run in a reader's browser: a script element, an event handler attribute, a
# javascript: URL in an attribute.
SCRIPT = re.compile(r"<script\b", re.IGNORECASE)
HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE)
JAVASCRIPT_URL = re.compile(r"""=\s*["']?\s*(?:java|vb)script:""", re.IGNORECASE)


def corpus_files() -> list[Path]:
    if not CORPORA.is_dir():
        return []
    return sorted(
        path
        for folder in FOLDERS
        for path in (CORPORA / folder).rglob("*")
        if path.suffix in (".xml", ".json")
    )


def passes() -> list[object]:
    """Every file on SQLite, in passes of PASS_SIZE; on PostgreSQL every eighth file in
    one pass: all of them took 12 min 40 s there on two busy cores (-n 2), 72 s on SQLite."""
    files = corpus_files()
    if not files:
        return [pytest.param("sqlite", [], marks=pytest.mark.skip(
            reason=f"the shared corpora are not beside the repository: {CORPORA} is absent"
        ))]
    return [
        pytest.param("sqlite", files[start : start + PASS_SIZE],
                     id=f"sqlite-files-{start}-{start + PASS_SIZE}")
        for start in range(0, len(files), PASS_SIZE)
    ] + [
        pytest.param("postgresql", files[::8], id="postgresql-every-8th-file",
                     marks=pytest.mark.postgres)
    ]


def unsafe(html: str) -> list[str]:
    return [pattern.pattern for pattern in (SCRIPT, HANDLER, JAVASCRIPT_URL)
            if pattern.search(html)]


class CorpusPass:
    """The files of one pass as sources s0000..., each in a category of its own, so that
    the category feed /feeds/cNNNN.atom is that source's entries."""

    def __init__(self, files: list[Path], server: FeedServer, directory: Path) -> None:
        self.files = files
        self.server = server
        self.ids = [f"s{number:04d}" for number in range(len(files))]
        self.config_path = directory / "feeds.yaml"
        self.config_path.write_text(
            "settings:\n  allow_private_addresses: true\ncategories:\n"
            + "".join(f"  c{source_id}: {{title: {source_id}}}\n" for source_id in self.ids)
            + "sources:\n"
            + "".join(
                f"  - id: {source_id}\n    url: {server.url('/' + source_id)}\n"
                f"    categories: [c{source_id}]\n"
                for source_id in self.ids
            ),
            encoding="utf-8",
        )
        self.config = load_config(self.config_path)

    def serve(self, suffix: bytes = b"") -> None:
        for source_id, path in zip(self.ids, self.files, strict=True):
            content_type = "application/json" if path.suffix == ".json" else "application/xml"
            self.server.serve("/" + source_id, path.read_bytes() + suffix,
                              content_type=content_type)

    def poll(self, store: Store) -> tuple[int, int, int, int]:
        now = datetime.now(UTC)
        store.sync_sources(self.config.sources, now)
        poller = Poller(self.config, store, Fetcher(allow_private_addresses=True, timeout=10))
        try:
            summary = poller.poll(store.due_sources(now, include_not_due=True))
        finally:
            poller.close()
        return summary.ok + summary.failed, summary.new, summary.updated, summary.merged


@pytest.fixture
def corpus_server() -> Iterator[FeedServer]:
    with FeedServer() as server:
        yield server


@pytest.mark.parametrize(("db_url", "files"), passes(), indirect=["db_url"])
def test_every_corpus_feed_is_stored_once_or_refused_with_a_reason_and_served_safely(
    files: list[Path], corpus_server: FeedServer, store: Store, db_url: str, tmp_path: Path
) -> None:
    corpus = CorpusPass(files, corpus_server, tmp_path)
    corpus.serve()
    polled, *_ = corpus.poll(store)
    assert polled == len(files)

    health: dict[str, SourceHealth] = {h.id: h for h in store.source_health()}
    name = dict(zip(corpus.ids, (str(f.relative_to(CORPORA)) for f in files), strict=True))
    unexplained = {
        name[source_id]: h.last_error
        for source_id, h in health.items()
        if h.status != "ok" and (not h.last_error or h.last_error.startswith("internal"))
    }
    assert unexplained == {}

    corpus.serve(b"\n")  # another body, the same feed: parsed and decided again
    _, new, updated, merged = corpus.poll(store)
    assert (new, updated, merged) == (0, 0, 0)

    client = create_app(
        {"DATABASE_URL": db_url, "AGGREGATOR_CONFIG": str(corpus.config_path)}
    ).test_client()
    unsafe_stored: dict[str, list[str]] = {}
    ill_formed: dict[str, str] = {}
    for source_id in corpus.ids:
        stored: list[StoredEntry] = list(
            store.entries(EntryQuery(source=source_id, limit=200)).entries
        )
        for entry in stored:
            found = unsafe(f"{entry.title} {entry.summary} {entry.content} "
                           f"={entry.link or ''}")
            if found:
                unsafe_stored[name[source_id]] = found
        for extension in ("atom", "rss"):
            answer = client.get(f"/feeds/c{source_id}.{extension}")
            assert answer.status_code == 200
            try:
                document = ElementTree.fromstring(answer.data)
            except ElementTree.ParseError as error:
                ill_formed[f"{name[source_id]} .{extension}"] = str(error)
                continue
            served = " ".join(
                f"{element.text or ''} " + " ".join(f"={v}" for v in element.attrib.values())
                for element in document.iter()
            )
            if found := unsafe(served):
                unsafe_stored[f"{name[source_id]} .{extension}"] = found
    assert unsafe_stored == {}
    assert ill_formed == {}
