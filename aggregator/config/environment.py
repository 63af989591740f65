"""The process environment that every entry point reads alike: the Procfile's web line,
`aggregator web`, `run`, `demo`, `worker` and the other commands. Command-line flags win
over it. `AGGREGATOR_ALLOW_PRIVATE` is read with feeds.yaml (`load_config`), since it sets
one of that file's settings.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

DEFAULT_DATABASE_URL = "sqlite:///aggregator.db"
DEFAULT_CONFIG_PATH = "feeds.yaml"
DEFAULT_PORT = 8000
DEFAULT_CACHE_MB = 64  # per web process


class InvalidEnvironment(ValueError):
    """A variable is set to something the service cannot use; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Environment:
    database_url: str = DEFAULT_DATABASE_URL
    config_path: str = DEFAULT_CONFIG_PATH
    staff_secret: str | None = None  # lets the first staff account be made; None: it cannot be
    secret_key: str | None = None  # signs session cookies; None: a key the store makes once
    lease: timedelta | None = None  # how long a worker's claim on a source lasts; None: its default
    port: int = DEFAULT_PORT
    cache_bytes: int = DEFAULT_CACHE_MB * 1024 * 1024  # the response cache's bound


def read_environment(environ: Mapping[str, str] = os.environ) -> Environment:
    """The settings in `environ`; an empty variable counts as unset."""
    return Environment(
        database_url=environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        config_path=environ.get("AGGREGATOR_CONFIG") or DEFAULT_CONFIG_PATH,
        staff_secret=environ.get("AGGREGATOR_STAFF_SECRET") or None,
        secret_key=environ.get("AGGREGATOR_SECRET_KEY") or None,
        lease=_lease(environ.get("AGGREGATOR_LEASE_SECONDS")),
        port=_port(environ.get("PORT")),
        cache_bytes=_cache_bytes(environ.get("AGGREGATOR_CACHE_MB")),
    )


def _lease(text: str | None) -> timedelta | None:
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        raise InvalidEnvironment(
            f"AGGREGATOR_LEASE_SECONDS={text!r} is not a number of seconds"
        ) from None
    if seconds <= 0:
        raise InvalidEnvironment(f"AGGREGATOR_LEASE_SECONDS={text!r} must be more than 0")
    return timedelta(seconds=seconds)


def _port(text: str | None) -> int:
    if not text:
        return DEFAULT_PORT
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise InvalidEnvironment(f"PORT={text!r} is not a port number")
    return int(text)


def _cache_bytes(text: str | None) -> int:
    if not text:
        return DEFAULT_CACHE_MB * 1024 * 1024
    if not text.isdigit():
        raise InvalidEnvironment(
            f"AGGREGATOR_CACHE_MB={text!r} is not a whole number of megabytes (0 turns it off)"
        )
    return int(text) * 1024 * 1024
