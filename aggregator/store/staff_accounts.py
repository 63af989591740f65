"""Named staff accounts, the waits that failed sign-ins earn, and the session signing key.

Passwords are kept as argon2id hashes (argon2-cffi): verifying one costs tens of
milliseconds and tens of megabytes, so a stolen table cannot be guessed through quickly.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, delete, func, select, update

from aggregator.store import Store
from aggregator.store.errors import StoreError
from aggregator.store.rows import insert_ignoring
from aggregator.store.schema import sign_in_failures, site_secrets, staff_accounts

MAX_NAME_CHARS = 80
MIN_PASSWORD_CHARS = 12
# Failures that cost nothing, then a wait that doubles with each one, up to the cap.
FREE_FAILURES = 3
FIRST_WAIT = timedelta(seconds=2)
LONGEST_WAIT = timedelta(minutes=15)
_SESSION_KEY = "session-key"
_hasher = PasswordHasher()
_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SignedIn:
    """Who signed in, and the session generation their session must carry."""

    name: str
    generation: int


class StaffAccounts:
    def __init__(self, store: Store) -> None:
        self._store = store

    # --- accounts -------------------------------------------------------------------

    def add(self, name: str, password: str, now: datetime) -> None:
        _check_name(name)
        _check_password(password)
        with self._store.writing() as connection:
            row = {
                "name": name,
                "password_hash": _hasher.hash(password),
                "session_generation": 1,
                "created_at": now,
            }
            if not insert_ignoring(connection, staff_accounts, row):
                raise StoreError(f"there is already a staff account named {name!r}")
        _log.info("staff account %r added", name)

    def add_first(self, name: str, password: str, now: datetime) -> bool:
        """Add an account only while there is none; False when one appeared meanwhile."""
        with self._store.writing() as connection:
            if _count(connection):
                return False
        self.add(name, password, now)
        return True

    def remove(self, name: str) -> None:
        with self._store.writing() as connection:
            gone = connection.execute(delete(staff_accounts).where(staff_accounts.c.name == name))
            if not gone.rowcount:
                raise StoreError(f"there is no staff account named {name!r}")
        _log.info("staff account %r removed", name)

    def set_password(self, name: str, password: str) -> None:
        """A new password; every session of the account ends."""
        _check_password(password)
        with self._store.writing() as connection:
            changed = connection.execute(
                update(staff_accounts)
                .where(staff_accounts.c.name == name)
                .values(
                    password_hash=_hasher.hash(password),
                    session_generation=staff_accounts.c.session_generation + 1,
                )
            )
            if not changed.rowcount:
                raise StoreError(f"there is no staff account named {name!r}")
        _log.info("staff account %r has a new password", name)

    def exist(self) -> bool:
        with self._store.reading() as connection:
            return bool(_count(connection))

    def verify(self, name: str, password: str) -> SignedIn | None:
        """The account when `password` is its password, else None."""
        with self._store.reading() as connection:
            row = connection.execute(
                select(staff_accounts.c.password_hash, staff_accounts.c.session_generation).where(
                    staff_accounts.c.name == name
                )
            ).first()
        if row is None:
            _hasher.hash(password)  # as slow as a wrong password: no hint which names exist
            return None
        try:
            _hasher.verify(row.password_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        return SignedIn(name, row.session_generation)

    def session_generation(self, name: str) -> int | None:
        """The generation a session of `name` must carry; None when there is no such account."""
        with self._store.reading() as connection:
            generation: int | None = connection.scalar(
                select(staff_accounts.c.session_generation).where(staff_accounts.c.name == name)
            )
            return generation

    def end_sessions(self, name: str) -> None:
        """Void every session of `name` (signing out)."""
        with self._store.writing() as connection:
            connection.execute(
                update(staff_accounts)
                .where(staff_accounts.c.name == name)
                .values(session_generation=staff_accounts.c.session_generation + 1)
            )

    # --- failed sign-ins --------------------------------------------------------------

    def blocked_until(self, keys: list[str], now: datetime) -> datetime | None:
        """When the latest wait among `keys` ends, if any has not ended by `now`."""
        with self._store.reading() as connection:
            until: datetime | None = connection.scalar(
                select(func.max(sign_in_failures.c.blocked_until)).where(
                    sign_in_failures.c.key.in_(keys)
                )
            )
        return until if until is not None and until > now else None

    def record_failure(self, keys: list[str], now: datetime) -> None:
        with self._store.writing() as connection:
            for key in keys:
                failures = 1 + (
                    connection.scalar(
                        select(sign_in_failures.c.failures).where(sign_in_failures.c.key == key)
                    )
                    or 0
                )
                row = {"failures": failures, "blocked_until": now + _wait_after(failures)}
                if failures == 1 and insert_ignoring(
                    connection, sign_in_failures, {"key": key, **row}
                ):
                    continue
                connection.execute(
                    update(sign_in_failures).where(sign_in_failures.c.key == key).values(row)
                )

    def forget_failures(self, keys: list[str]) -> None:
        with self._store.writing() as connection:
            connection.execute(delete(sign_in_failures).where(sign_in_failures.c.key.in_(keys)))

    # --- the session key --------------------------------------------------------------

    def session_key(self) -> str:
        """The key that signs session cookies: made once, then the same for every process."""
        with self._store.writing() as connection:
            insert_ignoring(
                connection,
                site_secrets,
                {"name": _SESSION_KEY, "value": secrets.token_urlsafe(48)},
            )
            return str(
                connection.scalar(
                    select(site_secrets.c.value).where(site_secrets.c.name == _SESSION_KEY)
                )
            )


def _count(connection: Connection) -> int:
    return int(connection.scalar(select(func.count()).select_from(staff_accounts)) or 0)


def _wait_after(failures: int) -> timedelta:
    if failures <= FREE_FAILURES:
        return timedelta(0)
    wait: timedelta = FIRST_WAIT * 2 ** min(failures - FREE_FAILURES - 1, 20)
    return min(wait, LONGEST_WAIT)


def _check_name(name: str) -> None:
    if not name or len(name) > MAX_NAME_CHARS or name != name.strip() or not name.isprintable():
        raise StoreError(
            f"a staff name is 1 to {MAX_NAME_CHARS} printable characters, "
            "with no spaces at either end"
        )


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise StoreError(f"a staff password has at least {MIN_PASSWORD_CHARS} characters")
