"""The `aggregator` command: every command README.md lists."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from aggregator.config.environment import Environment, InvalidEnvironment, read_environment
from aggregator.config.load import ConfigError, load_config
from aggregator.config.opml_import import OpmlImportError
from aggregator.fetch.fetcher import Fetcher
from aggregator.logs import configure_logging
from aggregator.models import (
    Config,
    ParsedEntry,
    PollOutcome,
    Source,
    Validators,
    WriteCounts,
)
from aggregator.parse.cap import area_categories
from aggregator.parse.feed import ParseError, parse_feed
from aggregator.schedule.poll import PassSummary, Poller
from aggregator.store import Store, StoreError, StoreUnavailable, open_store
from aggregator.store.merge import PairExplanation
from aggregator.store.migrate import is_current, upgrade
from aggregator.store.staff_accounts import StaffAccounts

if TYPE_CHECKING:
    from flask import Flask

    from aggregator.schedule.worker import Worker


class CommandFailed(Exception):
    """A command could not run; the message says why, and the exit status is 1."""


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    configure_logging()
    try:
        return int(args.command(args))
    except ConfigError as error:
        # One `FILE:LINE: reason` per problem, nothing around it: editors and scripts read it.
        print("\n".join(map(str, error.problems)), file=sys.stderr)
        return 1
    except (CommandFailed, InvalidEnvironment, StoreUnavailable, OpmlImportError) as error:
        print(f"aggregator: {error}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", help="feeds.yaml (default: $AGGREGATOR_CONFIG, ./feeds.yaml)")
    common.add_argument("--db", help="database URL (default: $DATABASE_URL, ./aggregator.db)")
    serving = argparse.ArgumentParser(add_help=False)
    serving.add_argument("--host", default="127.0.0.1")
    serving.add_argument("--port", type=int, help="default: $PORT, 8000")

    parser = argparse.ArgumentParser(prog="aggregator", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    check = commands.add_parser("check", parents=[common], help="validate the configuration")
    check.add_argument(
        "--try",
        dest="try_source",
        metavar="ID",
        help="fetch that source once and print what would be stored; writes nothing",
    )
    check.set_defaults(command=cmd_check)

    poll = commands.add_parser("poll", parents=[common], help="one pass over the due sources")
    poll.add_argument("--all", action="store_true", help="every enabled source, due or not")
    poll.add_argument("--source", action="append", default=[], metavar="ID")
    poll.set_defaults(command=cmd_poll)

    worker = commands.add_parser("worker", parents=[common], help="the scheduler alone")
    worker.set_defaults(command=cmd_worker)

    for name, command, text in (
        ("web", cmd_web, "the web app alone (development server)"),
        ("run", cmd_run, "poll and serve in one process"),
        ("demo", cmd_demo, "poll and serve bundled sample feeds"),
    ):
        commands.add_parser(name, parents=[common, serving], help=text).set_defaults(
            command=command)

    opml = commands.add_parser("opml", help="sources as OPML 2.0")
    opml_commands = opml.add_subparsers(required=True, metavar="ACTION")
    opml_commands.add_parser("export", parents=[common]).set_defaults(command=cmd_opml_export)
    opml_import = opml_commands.add_parser("import", parents=[common])
    opml_import.add_argument("file")
    opml_import.set_defaults(command=cmd_opml_import)

    db = commands.add_parser("db", help="the store's schema")
    db_commands = db.add_subparsers(required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", parents=[common]).set_defaults(command=cmd_db_upgrade)
    _add_merge_commands(commands, common)
    _add_staff_commands(commands, common)
    return parser


# --- resolving settings -------------------------------------------------------


def config_path(args: argparse.Namespace) -> str:
    return str(args.config or read_environment().config_path)


def database_url(args: argparse.Namespace) -> str:
    return str(args.db or read_environment().database_url)


def listen_port(args: argparse.Namespace) -> int:
    return int(read_environment().port if args.port is None else args.port)


def ready_store(url: str) -> Store:
    """Open the store, migrating an embedded SQLite store; a shared PostgreSQL store
    is migrated by the release step (`aggregator db upgrade`), never implicitly."""
    if url.startswith("sqlite"):
        upgrade(url)
    elif not is_current(url):
        raise CommandFailed("the database schema is not current: run `aggregator db upgrade`")
    store = open_store(url)
    store.ping()
    return store


@contextmanager
def store_at(url: str) -> Iterator[Store]:
    """The ready store at `url` for the length of the block."""
    store = ready_store(url)
    try:
        yield store
    finally:
        store.close()


def make_poller(config: Config, store: Store) -> Poller:
    fetcher = Fetcher(allow_private_addresses=config.settings.allow_private_addresses)
    return Poller(config, store, fetcher)


# --- commands -----------------------------------------------------------------


def cmd_check(args: argparse.Namespace) -> int:
    config = load_config(config_path(args))
    if args.try_source is not None:
        return try_source(config, args.try_source)
    print(f"{config.path}: ok ({len(config.sources)} sources, "
          f"{len(config.categories)} categories)")
    return 0


def try_source(config: Config, source_id: str) -> int:
    """A dry run of one source: fetched and parsed as a poll would, printed, not stored.
    0 when it would store something, 1 when not (the reason is printed)."""
    source = next((s for s in config.sources if s.id == source_id), None)
    if source is None:
        known = ", ".join(s.id for s in config.sources) or "none"
        raise CommandFailed(f"unknown source {source_id!r} (sources: {known})")
    fetcher = Fetcher(allow_private_addresses=config.settings.allow_private_addresses)
    result = fetcher.fetch(source.id, source.url, Validators())
    if result.body is None:
        return _nothing_stored(source, result.error or f"HTTP {result.http_status}")
    try:
        feed = parse_feed(
            result.body,
            content_type=result.content_type,
            url=result.url,
            fetched_at=result.fetched_at,
            timezone=source.timezone,
            source_format=source.format,
        )
    except ParseError as error:
        return _nothing_stored(source, str(error))
    if not feed.entries:
        empty = "no alert in force" if source.format.kind == "cap" else "no entries"
        return _nothing_stored(source, f"the response holds {empty}")
    zone = ZoneInfo(source.timezone)
    print(f"{source.id}: {len(feed.entries)} entries would be stored "
          f"(kind {source.format.kind}, {result.url})")
    for entry in feed.entries:
        print()
        for line in _entry_lines(entry, source, zone):
            print(line)
    return 0


def _nothing_stored(source: Source, reason: str) -> int:
    print(f"{source.id}: nothing would be stored: {reason}")
    return 1


def _entry_lines(entry: ParsedEntry, source: Source, zone: ZoneInfo) -> Iterator[str]:
    def local(moment: datetime) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    date = local(entry.published) if entry.published else "(no date: the time first seen)"
    yield f"{date}  {entry.title or '(no title)'}"
    yield f"    {entry.link or '(no link)'}"
    if entry.agency:
        yield f"    agency: {entry.agency}"
    if entry.severity or entry.expires:
        expires = local(entry.expires) if entry.expires else "never"
        yield f"    severity: {entry.severity or 'unknown'}, expires {expires}"
    if entry.areas:
        categories = area_categories(entry.areas, source.format.areas)
        goes_to = ", ".join(dict.fromkeys((*source.categories, *categories)))
        areas = ", ".join(area.name for area in entry.areas)
        yield f"    areas: {areas} (categories: {goes_to})"


def cmd_poll(args: argparse.Namespace) -> int:
    config = load_config(config_path(args))
    unknown = set(args.source) - {source.id for source in config.sources}
    if unknown:
        raise CommandFailed(f"unknown source: {', '.join(sorted(unknown))}")
    store = ready_store(database_url(args))
    now = datetime.now(UTC)
    store.sync_sources(config.sources, now)
    states = store.due_sources(now, include_not_due=bool(args.all or args.source))
    if args.source:
        states = [state for state in states if state.source_id in args.source]
    poller = make_poller(config, store)
    # The progress lines say per source what the service's JSON poll lines say.
    logging.getLogger("aggregator.schedule.poll").setLevel(logging.WARNING)
    progress = Progress(len(states))
    try:
        summary = poller.poll(states, progress.update)
    finally:
        poller.close()
        store.close()
    progress.finish(summary)
    # A script tells "everything it tried failed" (2) from "could not run at all" (1).
    attempted = summary.ok + summary.not_modified + summary.failed
    return 2 if attempted and summary.failed == attempted else 0


class Progress:
    """Counts on stderr while a pass runs: one updating line on a terminal, a line
    per source elsewhere (CI logs)."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self.failed = 0
        self.tty = sys.stderr.isatty()

    def update(self, outcome: PollOutcome, counts: WriteCounts) -> None:
        self.done += 1
        self.failed += outcome.status == "failed"
        if self.tty:
            print(f"\rpolling: {self.done}/{self.total} sources, {self.failed} failed",
                  end="", file=sys.stderr, flush=True)
        else:
            detail = outcome.error if outcome.status == "failed" else f"{counts.new} new"
            print(f"[{self.done}/{self.total}] {outcome.source_id}: {outcome.status}, {detail}",
                  file=sys.stderr)

    def finish(self, summary: PassSummary) -> None:
        if self.tty:
            print(file=sys.stderr)
        print(
            f"sources: {summary.ok} ok, {summary.not_modified} not modified, "
            f"{summary.failed} failed; entries: {summary.new} new, {summary.updated} updated, "
            f"{summary.merged} merged as duplicates"
        )


def cmd_worker(args: argparse.Namespace) -> int:
    from aggregator.schedule.worker import WorkerAlreadyRunning

    stop = _stop_on_signals()  # first: a deployment may stop a worker that is still starting
    config = load_config(config_path(args))
    store = ready_store(database_url(args))
    worker = make_worker(config, store, read_environment())
    try:
        worker.run_until(stop)
    except WorkerAlreadyRunning as error:
        raise CommandFailed(str(error)) from None
    return 0


def make_worker(config: Config, store: Store, environment: Environment) -> Worker:
    from aggregator.schedule.worker import LEASE, Worker

    poller = make_poller(config, store)
    return Worker(config, store, poller, lease=environment.lease or LEASE)


def cmd_web(args: argparse.Namespace) -> int:
    from aggregator.web import create_app

    stop = _stop_on_signals()
    config = load_config(config_path(args))
    with store_at(database_url(args)) as store:
        serve(create_app(config=config, store=store), args.host, listen_port(args), stop)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    stop = _stop_on_signals()
    config = load_config(config_path(args))
    with store_at(database_url(args)) as store:
        serve_and_poll(config, store, args.host, listen_port(args), stop)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from aggregator.demo import DemoFeeds

    stop = _stop_on_signals()
    with DemoFeeds() as demo:
        db = args.db or f"sqlite:///{Path(demo.directory) / 'demo.db'}"
        print(f"demo: sample feeds at {demo.base_url}, store {db}", file=sys.stderr)
        config = load_config(demo.config_path)
        with store_at(db) as store:
            serve_and_poll(config, store, args.host, listen_port(args), stop)
    return 0


def serve_and_poll(
    config: Config, store: Store, host: str, port: int, stop: threading.Event
) -> None:
    """The embedded default: the worker's scheduler in the background and the web app in
    the foreground, on one store, until `stop` is set."""
    from aggregator.web import create_app

    worker = make_worker(config, store, read_environment())
    app = create_app(config=config, store=store)
    worker.start()
    try:
        serve(app, host, port, stop)
    finally:
        worker.stop()


def serve(app: Flask, host: str, port: int, stop: threading.Event) -> None:
    """Serve `app` on host:port (0: any free port) with the development server until
    `stop` is set; the first line on stderr says where."""
    from werkzeug.serving import make_server

    server = make_server(host, port, app, threaded=True)

    def shut_down_on_stop() -> None:
        stop.wait()
        server.shutdown()

    threading.Thread(target=shut_down_on_stop, daemon=True).start()
    print(f"serving on http://{host}:{server.port}/", file=sys.stderr, flush=True)
    server.serve_forever()
    server.server_close()


def cmd_opml_export(args: argparse.Namespace) -> int:
    from aggregator.config.opml_export import export_opml

    sys.stdout.write(export_opml(load_config(config_path(args))))
    return 0


def cmd_opml_import(args: argparse.Namespace) -> int:
    from aggregator.config.opml_import import append_sources, sources_from_opml

    path = config_path(args)
    try:
        sources = sources_from_opml(Path(args.file).read_bytes())
    except OSError as error:
        raise CommandFailed(f"cannot read {args.file}: {error.strerror}") from None
    added = append_sources(path, sources)
    print(f"{path}: {added} sources added")
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    upgrade(database_url(args))
    print("database schema is current")
    return 0


# --- merge: staff corrections of near-duplicate merging --------------------------------


def _add_merge_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    merge = commands.add_parser("merge", help="correct how copies of a story were merged")
    actions = merge.add_subparsers(required=True, metavar="ACTION")
    split = actions.add_parser(
        "split", parents=[common], help="detach one source's report into an entry of its own"
    )
    split.add_argument("entry", metavar="ENTRY", help="the entry's id")
    split.add_argument("report", metavar="REPORT", help="the source id of the report to detach")
    split.set_defaults(command=cmd_merge_split)
    force = actions.add_parser(
        "force", parents=[common], help="attach every report of OTHER to ENTRY"
    )
    force.add_argument("entry", metavar="ENTRY", help="the entry that keeps its id")
    force.add_argument("other", metavar="OTHER", help="the entry whose reports join it")
    force.set_defaults(command=cmd_merge_force)
    explain = actions.add_parser(
        "explain", parents=[common], help="why two reports were merged or kept apart"
    )
    for name in ("first", "second"):
        explain.add_argument(name, metavar=name[0].upper(), help="an entry id or a report link")
    explain.set_defaults(command=cmd_merge_explain)


def cmd_merge_split(args: argparse.Namespace) -> int:
    with _staff_store(args) as store:
        new_uid = store.split_report(args.entry, args.report, _cli_actor(), datetime.now(UTC))
    print(f"report of {args.report} is now entry {new_uid}")
    return 0


def cmd_merge_force(args: argparse.Namespace) -> int:
    with _staff_store(args) as store:
        store.force_merge(args.entry, args.other, _cli_actor(), datetime.now(UTC))
    print(f"entry {args.other} merged into {args.entry}")
    return 0


def _add_staff_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    staff = commands.add_parser("staff", help="named staff accounts for web sign-in")
    actions = staff.add_subparsers(required=True, metavar="ACTION")
    for name, command, text in (
        ("add", cmd_staff_add, "add an account; its password is read from the terminal or stdin"),
        ("remove", cmd_staff_remove, "remove an account; its sessions end"),
        ("passwd", cmd_staff_passwd, "set a new password; the account's sessions end"),
    ):
        action = actions.add_parser(name, parents=[common], help=text)
        action.add_argument("name", metavar="NAME", help="the account's name, as the log shows it")
        action.set_defaults(command=command)


def cmd_staff_add(args: argparse.Namespace) -> int:
    password = _new_password()
    with _staff_store(args) as store:
        StaffAccounts(store).add(args.name, password, datetime.now(UTC))
    print(f"staff account {args.name} added")
    return 0


def cmd_staff_remove(args: argparse.Namespace) -> int:
    with _staff_store(args) as store:
        StaffAccounts(store).remove(args.name)
    print(f"staff account {args.name} removed")
    return 0


def cmd_staff_passwd(args: argparse.Namespace) -> int:
    password = _new_password()
    with _staff_store(args) as store:
        StaffAccounts(store).set_password(args.name, password)
    print(f"staff account {args.name} has a new password; its sessions have ended")
    return 0


def _new_password() -> str:
    """A password typed twice at a terminal prompt, or the first line of stdin."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != password:
        raise CommandFailed("the two passwords differ")
    return password


def cmd_merge_explain(args: argparse.Namespace) -> int:
    with _staff_store(args) as store:
        pair = store.explain_merge(args.first, args.second)
    print("\n".join(_pair_lines(pair)))
    return 0


def _pair_lines(pair: PairExplanation) -> list[str]:
    signals, decision = pair.explanation.signals, pair.explanation.decision
    lines = [
        f"{label}: {report.source_id} · {report.published.isoformat()} · {report.title}"
        f"\n   {report.link or '(no link)'} · entry {report.entry_uid}, joined by"
        f" {report.merge_rule}"
        + ("" if report.merge_score is None else f" ({report.merge_score:.3f})")
        for label, report in (("A", pair.first), ("B", pair.second))
    ]
    same_entry = pair.first.entry_uid == pair.second.entry_uid
    conflicts = "; ".join(signals.conflicting_facts) or "none"
    lines += [
        f"same entry now: {'yes' if same_entry else 'no'}",
        f"same source: {'yes' if signals.same_source else 'no'}",
        f"hours apart: {signals.hours_apart:.1f}",
        f"jaccard: {signals.jaccard:.3f}",
        f"containment: {signals.containment:.3f}",
        f"shingles of the shorter text: {signals.smaller_shingles}",
        f"conflicting numbers or dates: {conflicts}",
        f"figures both give: {signals.shared_figures}"
        f" ({signals.figures_contained:.0%} of the fewer)",
        f"one title within the other (a series): {'yes' if signals.series_title else 'no'}",
        f"rule: {pair.explanation.rule}",
        f"decision: {pair.explanation.reason}"
        + ("" if decision is None else f" (score {decision.score:.3f})"),
    ]
    if pair.staff_override is not None:
        staff = "split apart" if pair.staff_override == "apart" else "forced together"
        lines.append(f"staff: {staff}, which wins over the decision")
    return lines


@contextmanager
def _staff_store(args: argparse.Namespace) -> Iterator[Store]:
    """The store for one staff action; a refused action is the command failing, in words."""
    with store_at(database_url(args)) as store:
        try:
            yield store
        except StoreError as error:
            raise CommandFailed(str(error)) from error


def _cli_actor() -> str:
    """Who acts from the command line, for the audit log: the login user."""
    return f"cli:{os.environ.get('USER') or os.environ.get('USERNAME') or 'unknown'}"


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def handle(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)
    return stop


if __name__ == "__main__":
    sys.exit(main())
