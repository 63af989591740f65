"""Operations endpoints: `/healthz` for load balancers and `/opml` for other readers."""

from __future__ import annotations

import logging

from flask import Blueprint, Response

from aggregator.config.opml_export import export_opml
from aggregator.store import StoreUnavailable
from aggregator.web.state import current_state

bp = Blueprint("ops", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz() -> Response:
    try:
        current_state().store.ping()
    except StoreUnavailable as error:
        log.warning("health check failed: %s", error)
        return Response("store unavailable", status=503, mimetype="text/plain")
    return Response("ok", mimetype="text/plain")


@bp.get("/opml")
def opml() -> Response:
    return Response(export_opml(current_state().config), mimetype="text/x-opml")
