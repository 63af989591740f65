"""`aggregator demo`: bundled sample feeds served from 127.0.0.1, and a config polling them.

The feeds are generated at start from `stories.yaml`, dated relative to now, so a
newcomer with no network sees a current, filled reader within seconds. One source of each
kind that has no RSS (`kinds`) is served beside them.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml
from feedgen.feed import FeedGenerator

from aggregator.demo import kinds

CATEGORIES = {"kaohsiung": "高雄市政新聞", "taipei": "臺北市政新聞", **kinds.CATEGORIES}


def build_documents(now: datetime) -> dict[str, kinds.Document]:
    """Every document the demo serves, by path: (content type, body)."""
    return build_feeds(now) | kinds.kind_documents(now)


def build_feeds(now: datetime) -> dict[str, kinds.Document]:
    """Sample feeds by path: (content type, document)."""
    data: dict[str, Any] = yaml.safe_load(files(__name__).joinpath("stories.yaml").read_text(
        encoding="utf-8"))
    feeds: dict[str, tuple[str, bytes]] = {}
    for source_id, source in data["sources"].items():
        generator = FeedGenerator()
        generator.id(f"https://demo.invalid/{source_id}")
        generator.title(source["title"])
        generator.link(href=f"https://demo.invalid/{source_id}", rel="alternate")
        generator.description(source["title"])
        generator.language("zh-TW")
        reports = [r for r in data["reports"] if r["source"] == source_id]
        for report in sorted(reports, key=lambda r: -r["hours_ago"]):
            item = generator.add_entry()
            item.id(report["id"])
            item.guid(report["id"], permalink=False)
            item.title(report["title"])
            item.link(href=report["link"])
            item.content(report["content"], type="html")
            # Not `description()`: on an Atom entry feedgen takes that for the content and
            # drops its type, which makes the HTML text (a literal <p> in every reader).
            item.summary(report["content"], type="html")
            stamp = now - timedelta(hours=report["hours_ago"])
            item.published(stamp)
            item.updated(stamp)
        if source["format"] == "atom":
            feeds[f"/{source_id}.xml"] = (
                "application/atom+xml; charset=utf-8", generator.atom_str())
        else:
            feeds[f"/{source_id}.xml"] = ("application/rss+xml; charset=utf-8", generator.rss_str())
    return feeds


def demo_config(base_url: str) -> str:
    data: dict[str, Any] = yaml.safe_load(files(__name__).joinpath("stories.yaml").read_text(
        encoding="utf-8"))
    lines = [
        "# Written by `aggregator demo`: polls the bundled sample feeds on 127.0.0.1.",
        "settings:",
        "  interval: 1m",
        "  allow_private_addresses: true",
        "categories:",
    ]
    lines += [f"  {slug}:\n    title: {title}" for slug, title in CATEGORIES.items()]
    lines.append("sources:")
    for source_id, source in data["sources"].items():
        lines += [
            f"  - id: {source_id}",
            f"    url: {base_url}/{source_id}.xml",
            f"    title: {source['title']}",
            f"    categories: [{', '.join(source['categories'])}]",
            f"    priority: {source.get('priority', 0)}",
        ]
    for kind_source in kinds.SOURCES:
        lines += [
            f"  - id: {kind_source.id}",
            f"    url: {base_url}{kind_source.path}",
            f"    title: {kind_source.title}",
            f"    categories: [{', '.join(kind_source.categories)}]",
            kind_source.options.rstrip("\n"),
        ]
    return "\n".join(lines) + "\n"


class DemoFeeds:
    """Serves the sample feeds until closed; `config_path` is a feeds.yaml for them."""

    def __init__(self) -> None:
        self.directory = tempfile.mkdtemp(prefix="aggregator-demo-")
        documents = build_documents(datetime.now(UTC))

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                found = documents.get(self.path)
                if found is None:
                    self.send_error(404)
                    return
                content_type, body = found
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the poll log already says what was fetched

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        self.config_path = str(Path(self.directory) / "feeds.yaml")
        Path(self.config_path).write_text(demo_config(self.base_url), encoding="utf-8")
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> DemoFeeds:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()
