"""The staff view of one entry (`/staff/entries/<id>`): every report with the rule and score
that merged it, and the split and force-merge actions (see `aggregator.web.auth`)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Flask, abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from aggregator.store import StoreError
from aggregator.web import auth
from aggregator.web.auth import staff_action, staff_name
from aggregator.web.state import current_state

bp = Blueprint("staff_entries", __name__)


def init_app(app: Flask) -> None:
    """The staff entry pages and the sign-in they need."""
    auth.init_app(app)
    app.register_blueprint(bp)


@bp.get("/staff/entries/<uid>")
def entry(uid: str) -> str:
    return _page(uid)


@bp.post("/staff/entries/<uid>/split")
@staff_action
def split(uid: str) -> Response | tuple[str, int]:
    source_id = request.form.get("source", "")
    try:
        new_uid = current_state().store.split_report(uid, source_id, _actor(), _now())
    except StoreError as error:
        return _page(uid, problem=str(error)), 400
    return redirect(url_for("staff_entries.entry", uid=new_uid))


@bp.post("/staff/entries/<uid>/merge")
@staff_action
def force_merge(uid: str) -> Response | tuple[str, int]:
    other = request.form.get("other", "").strip()
    try:
        current_state().store.force_merge(uid, other, _actor(), _now())
    except StoreError as error:
        return _page(uid, problem=str(error)), 400
    return redirect(url_for("staff_entries.entry", uid=uid))


def _page(uid: str, problem: str | None = None) -> str:
    """The entry's page; `problem` says why an action on it was refused."""
    found = current_state().store.staff_entry(uid)
    if found is None:
        abort(404)
    return render_template("staff/entry.html", staff=found, problem=problem)


def _actor() -> str:
    return staff_name() or ""  # staff_action has checked someone is signed in


def _now() -> datetime:
    return datetime.now(UTC)
