"""Staff sign-in and CSRF protection for the actions that change data over the web.

Signing in takes the shared secret from `$AGGREGATOR_STAFF_SECRET` and a name, which the
audit log records as who acted. Without the secret the site is read-only: the sign-in
page and every staff action answer 404, and templates get `staff_name() is None`.

Flask's session cookie is signed with SECRET_KEY, derived from the staff secret with
HMAC: every gunicorn worker derives the same key, so a session signed by one worker is
valid in all of them (a random per-process key would sign staff out on every other
request), and changing the secret signs everyone out. Each session carries its own CSRF
token, compared in constant time on every POST.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import unicodedata
from collections.abc import Callable
from typing import ParamSpec, TypeVar
from urllib.parse import unquote, urlsplit

from flask import Blueprint, Flask, abort, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from aggregator.web.state import current_state

bp = Blueprint("auth", __name__)

_SESSION_KEY_CONTEXT = b"aggregator flask session key v1"
_MAX_NAME_CHARS = 80
P = ParamSpec("P")
R = TypeVar("R")


def init_app(app: Flask) -> None:
    secret = app.config.get("AGGREGATOR_STAFF_SECRET")
    if secret:
        app.config["SECRET_KEY"] = hmac.new(
            secret.encode(), _SESSION_KEY_CONTEXT, hashlib.sha256
        ).hexdigest()
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.add_template_global(staff_name)
    app.add_template_global(csrf_token)
    app.register_blueprint(bp)


def staff_enabled() -> bool:
    return current_state().staff_secret is not None


def staff_name() -> str | None:
    """Who is signed in, or None (always None while staff actions are switched off)."""
    if not staff_enabled():
        return None
    name = session.get("staff")
    return name if isinstance(name, str) else None


def csrf_token() -> str:
    """This session's CSRF token, for a hidden `csrf_token` field in every form."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def _check_csrf() -> None:
    sent = request.form.get("csrf_token", "")
    expected = session.get("csrf")
    if not isinstance(expected, str) or not hmac.compare_digest(sent, expected):
        abort(403, "the form's CSRF token is missing or stale: reload the page and try again")


def staff_action(view: Callable[P, R]) -> Callable[P, R | Response]:
    """A POST view that changes data: switched off without the secret (404), refused
    without sign-in or a valid CSRF token (403)."""

    @functools.wraps(view)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        if not staff_enabled():
            abort(404)
        if staff_name() is None:
            abort(403, "staff sign-in is needed for this action")
        _check_csrf()
        return view(*args, **kwargs)

    return guarded


@bp.route("/staff/sign-in", methods=["GET", "POST"])
def sign_in() -> str | Response | tuple[str, int]:
    if not staff_enabled():
        abort(404)
    following = _local_path(request.values.get("next", ""))
    if request.method == "GET":
        return render_template("staff/sign_in.html", next=following, error=None)
    _check_csrf()
    name = request.form.get("name", "").strip()[:_MAX_NAME_CHARS]
    given = request.form.get("secret", "")
    secret = current_state().staff_secret or ""
    if not name or not hmac.compare_digest(given.encode(), secret.encode()):
        error = "Give your name and the staff secret." if not name else "Wrong staff secret."
        return render_template("staff/sign_in.html", next=following, error=error), 403
    session.clear()  # a fresh session, and a fresh CSRF token, for the signed-in staff member
    session["staff"] = name
    return redirect(following or url_for("staff.sources"))


@bp.post("/staff/sign-out")
@staff_action
def sign_out() -> Response:
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
