"""Every error as a clear message: JSON under /api/, elsewhere a page in the reader's
language (zh-Hant or English), styled like the reader; never a bare Werkzeug page."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from aggregator.store import StoreUnavailable
from aggregator.web import i18n
from aggregator.web.refused import Refused
from aggregator.web.templating import current_language

log = logging.getLogger(__name__)

# Statuses with a heading and a message of their own; others read as a bad request.
_KNOWN_STATUSES = frozenset({400, 403, 404, 405, 429, 500, 503})


def init_app(app: Flask) -> None:
    # `Refused`, InvalidParameter (a query parameter to fix) among them.
    app.register_error_handler(Refused, _refused)
    app.register_error_handler(StoreUnavailable, _store_unavailable)
    # Uncaught exceptions reach this one too, as a 500 (InternalServerError).
    app.register_error_handler(HTTPException, _http_error)


def _refused(error: Refused) -> tuple[Response | str, int]:
    return _respond(error.status, error.message, **error.values)


def _store_unavailable(error: StoreUnavailable) -> tuple[Response | str, int]:
    log.warning("store unavailable while serving %s: %s", request.path, error)
    return _respond(503, "error.store_unavailable")


def _http_error(error: HTTPException) -> tuple[Response | str, int, Mapping[str, str]]:
    status = error.code if error.code is not None and error.code in _KNOWN_STATUSES else 400
    # (Flask has logged an uncaught exception before it reaches here as a 500.)
    headers: dict[str, str] = {}
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    body, status = _respond(status, f"error.http.{status}")
    return body, status, headers


def _respond(status: int, message: str, **values: object) -> tuple[Response | str, int]:
    if request.path.startswith("/api/"):
        # The API speaks to programmers: one language, whatever the browser prefers.
        return jsonify(error=i18n.translate("en", message, **values)), status
    language = current_language()
    page = render_template(
        "error.html",
        status=status,
        heading=i18n.translate(language, f"error.{status}"),
        message=i18n.translate(language, message, **values),
    )
    return page, status
