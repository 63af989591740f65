"""Operations endpoints: `/healthz` for load balancers, `/opml` (the sources, for staff)
and `/opml/feeds` (this site's category feeds, for readers)."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future

from flask import Blueprint, Response, current_app
from jinja2 import TemplateError

from aggregator.config.opml_export import export_feeds_opml, export_opml
from aggregator.store import Store, StoreUnavailable
from aggregator.web.links import site_url
from aggregator.web.state import current_state

bp = Blueprint("ops", __name__)
log = logging.getLogger(__name__)

# Every template a page renders (the rest are included by these): an install that lacks
# one would answer that page with a 500 while the health check said ok.
PAGE_TEMPLATES = (
    "reader.html",
    "story.html",
    "search_help.html",
    "embed.html",
    "embed_builder.html",
    "sources.html",
    "source.html",
    "error.html",
    "staff/entry.html",
    "staff/sign_in.html",
    "staff/confirm_split.html",
    "staff/confirm_merge.html",
    "staff/merge_search.html",
)


STORE_CHECK_SECONDS = 1.5  # a load balancer gives up on /healthz after 2 s or so


class _StoreCheck:
    """Asks the store in a thread of its own, and waits a bounded time: a database behind
    a partition that drops packets answers nothing and closes nothing. One question at a
    time: while one is stuck, later checks do not pile more threads on it."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._pending: Future[bool] | None = None

    def schema_is_current(self) -> bool:
        with self._lock:
            if self._pending is None or self._pending.done():
                self._pending = Future()
                # A daemon thread: a stuck question must not hold up the process's exit.
                threading.Thread(target=self._ask, args=(self._pending,), daemon=True).start()
            pending = self._pending
        return pending.result(timeout=STORE_CHECK_SECONDS)

    def _ask(self, answer: Future[bool]) -> None:
        try:
            answer.set_result(self._store.schema_is_current())
        except BaseException as error:  # handed to the waiting request, which says why
            answer.set_exception(error)


def _store_check() -> _StoreCheck:
    check = current_app.extensions.get(_STORE_CHECK_KEY)
    if not isinstance(check, _StoreCheck):
        check = current_app.extensions[_STORE_CHECK_KEY] = _StoreCheck(current_state().store)
    return check


_STORE_CHECK_KEY = "aggregator.healthz"


@bp.get("/healthz")
def healthz() -> Response:
    """200 "ok" when the store answers, its schema is this code's and the templates load;
    else 503 with every reason, one a line."""
    problems = [*_store_problems(), *_template_problems()]
    if problems:
        return Response("\n".join(problems), status=503, mimetype="text/plain")
    return Response("ok", mimetype="text/plain")


def _store_problems() -> list[str]:
    try:
        current = _store_check().schema_is_current()
    except StoreUnavailable as error:
        # The details name the database's host: for the log, not for the public answer.
        log.warning("health check failed: %s", error)
        return ["store unavailable"]
    except TimeoutError:
        log.warning("health check failed: the store gave no answer in %g s", STORE_CHECK_SECONDS)
        return [f"store unavailable: no answer within {STORE_CHECK_SECONDS:g} s"]
    if not current:
        return ["database schema is not current: run `aggregator db upgrade`"]
    return []


def _template_problems() -> list[str]:
    problems = []
    for name in PAGE_TEMPLATES:
        try:
            current_app.jinja_env.get_template(name)
        except TemplateError as error:
            problems.append(f"template {name} cannot be loaded: {error.message or error}")
    return problems


@bp.get("/opml")
def opml() -> Response:
    return Response(export_opml(current_state().config), mimetype="text/x-opml")


@bp.get("/opml/feeds")
def feeds_opml() -> Response:
    config = current_state().config
    return Response(export_feeds_opml(config, site_url(config.settings)), mimetype="text/x-opml")
