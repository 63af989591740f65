"""What the store raises: the database is not there, or it refused a write."""

from __future__ import annotations


class StoreUnavailable(Exception):
    """The database does not answer."""


class StoreError(ValueError):
    """A write was refused (for example a report breaking a constraint); nothing was written."""
