"""Every error as a clear message: JSON under /api/, a page elsewhere; never a bare 500."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from aggregator.store import StoreUnavailable
from aggregator.web import i18n
from aggregator.web.params import InvalidParameter
from aggregator.web.templating import current_language

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    app.register_error_handler(InvalidParameter, _invalid_parameter)
    app.register_error_handler(StoreUnavailable, _store_unavailable)
    app.register_error_handler(HTTPException, _http_error)


def _invalid_parameter(error: InvalidParameter) -> tuple[Response | str, int]:
    return _respond(error.status, error.message, **error.values)


def _store_unavailable(error: StoreUnavailable) -> tuple[Response | str, int]:
    log.warning("store unavailable while serving %s: %s", request.path, error)
    return _respond(503, "error.store_unavailable")


def _http_error(error: HTTPException) -> tuple[Response | str, int] | HTTPException:
    if error.code == 404:
        return _respond(404, "error.not_found")
    return error  # werkzeug's own page says what went wrong (405, ...)


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
