"""Staff sign-in with named accounts, and CSRF protection for the actions that change data.

Accounts are made with `aggregator staff add NAME`. While there is none, whoever gives
`$AGGREGATOR_STAFF_SECRET` on the sign-in page makes the first one; once an account
exists the secret opens nothing. With no account and no secret, staff actions are
switched off (the sign-in page and every action answer 404) and the site is read-only.

The session cookie is signed with `$AGGREGATOR_SECRET_KEY`, else with a random key the
store makes once, so every web process signs alike and no password can be guessed from a
cookie. It carries the account's name and session generation, compared with the store on
every request: signing out raises the generation, voiding every copy of the cookie.
Anonymous visitors get no cookie at all (the sign-in form's CSRF token is signed, not
kept in a session). Failed sign-ins earn a wait that doubles, per address and per
account, kept in the store so that it holds across processes; every attempt is logged.
"""

from __future__ import annotations

import functools
import hmac
import logging
import secrets
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import ParamSpec, TypeVar
from urllib.parse import unquote, urlsplit

from flask import (
    Blueprint,
    Flask,
    Request,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadData, URLSafeTimedSerializer
from werkzeug.wrappers import Response

from aggregator.store import StoreError, StoreUnavailable
from aggregator.store.staff_accounts import MAX_NAME_CHARS, SignedIn, StaffAccounts
from aggregator.web.refused import Refused
from aggregator.web.state import EXTENSION_KEY, current_state
from aggregator.web.templating import translate as t

bp = Blueprint("auth", __name__)

_log = logging.getLogger(__name__)
_SIGN_IN_FORM_SALT = "staff sign-in form"
_SIGN_IN_FORM_SECONDS = 3600
P = ParamSpec("P")
R = TypeVar("R")


def init_app(app: Flask) -> None:
    store = app.extensions[EXTENSION_KEY].store
    app.session_interface = _StaffSessions(
        _SessionKey(app.config.get("AGGREGATOR_SECRET_KEY"), StaffAccounts(store).session_key)
    )
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.add_template_global(staff_name)
    app.add_template_global(csrf_token)
    app.add_template_global(header_staff)
    app.register_blueprint(bp)


class _SessionKey:
    """`$AGGREGATOR_SECRET_KEY`, else the store's own key, read once per process."""

    def __init__(self, given: str | None, store_key: Callable[[], str]) -> None:
        self._lock = threading.Lock()
        self._key = given
        self._store_key = store_key

    def __call__(self) -> str:
        with self._lock:
            if self._key is None:
                self._key = self._store_key()
            return self._key


class _StaffSessions(SecureCookieSessionInterface):
    def __init__(self, key: _SessionKey) -> None:
        self.key = key

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(
            self.key(),
            salt=self.salt,
            serializer=self.serializer,
            signer_kwargs={
                "key_derivation": self.key_derivation,
                "digest_method": self.digest_method,
            },
        )

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()  # an anonymous visitor: no key needed, no store read
        return super().open_session(app, request)

    def get_cookie_secure(self, app: Flask) -> bool:
        # Over HTTPS (the server sets the scheme, from a proxy it trusts) the cookie is
        # never sent in clear.
        return request.is_secure


def _accounts() -> StaffAccounts:
    return StaffAccounts(current_state().store)


def staff_enabled() -> bool:
    """Whether anyone can sign in: an account exists, or the secret to make the first."""
    return current_state().staff_secret is not None or _accounts().exist()


def staff_name() -> str | None:
    """Who is signed in, or None. A session whose account is gone, or that was signed
    out, counts for nothing."""
    if "staff_checked" not in g:
        g.staff_checked = _session_account()
    name: str | None = g.staff_checked
    return name


@dataclass(frozen=True, slots=True)
class HeaderStaff:
    """What a page's header says about staff: who is signed in, else whether anyone can."""

    name: str | None
    can_sign_in: bool


def header_staff() -> HeaderStaff:
    """For the header of every page, error pages too: a store that cannot be reached
    (the 503 page) leaves the header without staff links rather than failing the page."""
    try:
        name = staff_name()
        return HeaderStaff(name, name is None and staff_enabled())
    except StoreUnavailable:
        return HeaderStaff(None, False)


def _session_account() -> str | None:
    name, generation = session.get("staff"), session.get("generation")
    if not isinstance(name, str) or not isinstance(generation, int):
        return None
    return name if _accounts().session_generation(name) == generation else None


def csrf_token() -> str:
    """The CSRF token for a hidden `csrf_token` field: the session's once signed in, else
    a signed one for the sign-in form (which sets no cookie)."""
    token = session.get("csrf")
    if isinstance(token, str):
        return token
    return _sign_in_tokens().dumps("sign-in")


def _sign_in_tokens() -> URLSafeTimedSerializer:
    sessions = current_app.session_interface
    assert isinstance(sessions, _StaffSessions)  # init_app installed it
    return URLSafeTimedSerializer(sessions.key(), salt=_SIGN_IN_FORM_SALT)


def _check_csrf() -> None:
    sent = request.form.get("csrf_token", "")
    expected = session.get("csrf")
    if not isinstance(expected, str) or not hmac.compare_digest(sent, expected):
        raise Refused(403, "error.bad_csrf")


def _check_sign_in_csrf() -> None:
    try:
        _sign_in_tokens().loads(request.form.get("csrf_token", ""), max_age=_SIGN_IN_FORM_SECONDS)
    except BadData as error:
        raise Refused(403, "error.bad_csrf") from error


def staff_action(view: Callable[P, R]) -> Callable[P, R | Response]:
    """A POST view that changes data: switched off without accounts (404), refused
    without sign-in or a valid CSRF token (403)."""

    @functools.wraps(view)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        if staff_name() is None:
            if not staff_enabled():
                abort(404)
            raise Refused(403, "error.sign_in_needed")
        _check_csrf()
        return view(*args, **kwargs)

    return guarded


def staff_page(view: Callable[P, R]) -> Callable[P, R | Response]:
    """A staff page: switched off without accounts (404); without sign-in, the sign-in
    page, which comes back here."""

    @functools.wraps(view)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        if staff_name() is None:
            if not staff_enabled():
                abort(404)
            return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return guarded


@bp.route("/staff/sign-in", methods=["GET", "POST"])
def sign_in() -> str | Response | tuple[str, int]:
    if not staff_enabled():
        abort(404)
    following = _local_path(request.values.get("next", ""))
    first_account = not _accounts().exist()
    if request.method == "GET":
        return _sign_in_page(following, first_account, None, 200)
    _check_sign_in_csrf()
    name = request.form.get("name", "").strip()[:MAX_NAME_CHARS]
    password = request.form.get("password", "")
    now = current_state().clock()
    keys = [f"address:{request.remote_addr}", f"account:{name}"]
    accounts = _accounts()
    blocked = accounts.blocked_until(keys, now)
    if blocked is not None:
        _log.warning("sign-in as %r from %s refused: too many failures", name, request.remote_addr)
        wait = max(int((blocked - now).total_seconds()) + 1, 1)
        page, status = _sign_in_page(
            following, first_account, t("sign_in.too_many", wait=wait), 429
        )
        return Response(page, status, headers={"Retry-After": str(wait)})
    signed_in = (
        _make_first_account(accounts, name, password, now)
        if first_account
        else accounts.verify(name, password)
    )
    if signed_in is None:
        accounts.record_failure(keys, now)
        _log.warning("failed sign-in as %r from %s", name, request.remote_addr)
        error = t("sign_in.wrong_secret" if first_account else "sign_in.wrong")
        return _sign_in_page(following, first_account, error, 403)
    accounts.forget_failures(keys)
    _log.info("%r signed in from %s", name, request.remote_addr)
    session.clear()  # a fresh session, and a fresh CSRF token, for the signed-in staff member
    session["staff"] = signed_in.name
    session["generation"] = signed_in.generation
    session["csrf"] = secrets.token_urlsafe(32)
    return redirect(following or url_for("staff.sources"))


def _make_first_account(
    accounts: StaffAccounts, name: str, password: str, now: datetime
) -> SignedIn | None:
    """The first account, made by whoever gives the staff secret; None when it is wrong."""
    secret = current_state().staff_secret or ""
    given = request.form.get("secret", "")
    if not hmac.compare_digest(given.encode(), secret.encode()):
        return None
    try:
        accounts.add_first(name, password, now)
    except StoreError as error:
        raise Refused(400, "error.bad_account", reason=str(error)) from error
    return accounts.verify(name, password)


def _sign_in_page(
    following: str, first_account: bool, error: str | None, status: int
) -> tuple[str, int]:
    page = render_template(
        "staff/sign_in.html", next=following, first_account=first_account, error=error
    )
    return page, status


@bp.post("/staff/sign-out")
@staff_action
def sign_out() -> Response:
    name = staff_name()
    if name is not None:
        _accounts().end_sessions(name)
        _log.info("%r signed out", name)
    session.clear()
    return redirect(url_for("reader.river"))


def _local_path(target: str) -> str:
    """`target` when it is a relative path on this site, else "" (no open redirect).

    Checked as given and after every layer of percent-decoding: browsers and Werkzeug drop
    tabs and newlines and read a backslash as a slash, so `/%09/evil.example/` would
    otherwise leave as `//evil.example/`."""
    seen = target
    while True:
        if not _is_plain_local_path(seen):
            return ""
        decoded = unquote(seen)
        if decoded == seen:
            return target
        seen = decoded


def _is_plain_local_path(path: str) -> bool:
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return False
    if any(char.isspace() or unicodedata.category(char) in _UNSAFE_CATEGORIES for char in path):
        return False
    parts = urlsplit(path)
    return not parts.scheme and not parts.netloc


_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})
