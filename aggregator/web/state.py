"""What every request needs: the loaded configuration and the open store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app

from aggregator.models import Config
from aggregator.store import Store

EXTENSION_KEY = "aggregator"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class AppState:
    config: Config
    store: Store
    # Lets whoever knows it make the first staff account; with no account and no secret,
    # staff actions are switched off and the site is read-only.
    staff_secret: str | None
    # The moment pages count relative times from ("5 分鐘前"); tests freeze it.
    clock: Callable[[], datetime] = utc_now


def current_state() -> AppState:
    """The state of the app handling the current request."""
    state = current_app.extensions[EXTENSION_KEY]
    if not isinstance(state, AppState):
        raise RuntimeError("the aggregator app state is missing: build the app with create_app()")
    return state
