"""Operations endpoints: `/healthz` for load balancers, `/opml` (the sources, for staff)
and `/opml/feeds` (this site's category feeds, for readers)."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app
from jinja2 import TemplateError

from aggregator.config.opml_export import export_feeds_opml, export_opml
from aggregator.store import StoreUnavailable
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
    "sources.html",
    "source.html",
    "error.html",
    "staff/entry.html",
    "staff/sign_in.html",
)


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
        current = current_state().store.schema_is_current()
    except StoreUnavailable as error:
        # The details name the database's host: for the log, not for the public answer.
        log.warning("health check failed: %s", error)
        return ["store unavailable"]
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
