"""`/metrics`: Prometheus text. Polls and health come from the database, so every web
process tells the same; the response cache's figures are the answering process's own."""

from __future__ import annotations

from flask import Blueprint, Response, current_app

from aggregator.render.metrics import CONTENT_TYPE, exposition
from aggregator.store.alerts import AlertStore
from aggregator.web.responsecache import cache_counts
from aggregator.web.state import current_state

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def metrics() -> Response:
    store = current_state().store
    body = exposition(
        AlertStore(store).poll_stats(), store.source_health(), cache_counts(current_app)
    )
    return Response(body, content_type=CONTENT_TYPE)
