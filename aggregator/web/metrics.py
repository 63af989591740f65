"""`/metrics`: Prometheus text, from the database, so every web process tells the same."""

from __future__ import annotations

from flask import Blueprint, Response

from aggregator.render.metrics import CONTENT_TYPE, exposition
from aggregator.store.alerts import AlertStore
from aggregator.web.state import current_state

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def metrics() -> Response:
    store = current_state().store
    body = exposition(AlertStore(store).poll_stats(), store.source_health())
    return Response(body, content_type=CONTENT_TYPE)
