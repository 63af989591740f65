"""The one exception a view raises to refuse a request in the visitor's words (turned into
a page, or JSON under /api/, by `aggregator.web.errors`)."""

from __future__ import annotations


class Refused(Exception):
    """A request the site will not serve: `status` is the HTTP status, `message` an i18n
    key, `values` fill it in."""

    def __init__(self, status: int, message: str, **values: object) -> None:
        super().__init__(message, values)
        self.status = status
        self.message = message
        self.values = values
