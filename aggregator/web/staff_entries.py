"""The staff desk for one story: `/staff/entries/<id>` (every report, why it was merged,
in words, and the staff log), and the two corrections, each asked, then confirmed:
splitting a report off, and merging in another story found by searching. Every page
here needs a staff sign-in (see `aggregator.web.auth`); the actions are POSTs with a
CSRF token, and send the staff member back to the story page with a message."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Flask, flash, redirect, render_template, request
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from aggregator.dedupe import MergeExplanation
from aggregator.models import EntryQuery, StaffEntry, StoredEntry
from aggregator.render.mergewords import pair_sentence, rule_sentence
from aggregator.store import StoreError
from aggregator.web import auth, params
from aggregator.web.auth import staff_action, staff_name, staff_page
from aggregator.web.state import current_state
from aggregator.web.templating import current_language, page_url
from aggregator.web.templating import translate as t

bp = Blueprint("staff_entries", __name__)

MERGE_CHOICES = 20  # search results offered for a merge


def init_app(app: Flask) -> None:
    """The staff entry pages, the sign-in they need, and the merge reasons in words."""
    auth.init_app(app)
    app.add_template_global(rule_words)
    app.add_template_global(pair_words)
    app.register_blueprint(bp)


def rule_words(rule: str, score: float | None) -> str:
    """How a report joined its entry, in the page's language."""
    return rule_sentence(rule, score, current_language())


def pair_words(explanation: MergeExplanation) -> str:
    """What the merge decision makes of a report and the shown one, in the page's language."""
    return pair_sentence(explanation, current_language())


@bp.get("/staff/entries/<uid>")
@staff_page
def entry(uid: str) -> str:
    return _page(uid)


@bp.get("/staff/entries/<uid>/split/<source_id>")
@staff_page
def confirm_split(uid: str, source_id: str) -> str:
    found = _staff_entry(uid)
    report = next((r for r in found.reports if r.source_id == source_id), None)
    if report is None:
        raise params.InvalidParameter(404, "error.unknown_source", value=source_id)
    return render_template("staff/confirm_split.html", staff=found, report=report)


@bp.post("/staff/entries/<uid>/split")
@staff_action
def split(uid: str) -> Response | tuple[str, int]:
    source_id = request.form.get("source", "")
    try:
        new_uid = current_state().store.split_report(uid, source_id, _actor(), _now())
    except StoreError as error:
        return _page(uid, problem=t("staff.refused", reason=error)), 400
    title = _source_title(source_id)
    flash(t("staff.done_split", source=title), page_url("reader.story", uid=new_uid))
    return redirect(page_url("reader.story", uid=uid))


@bp.get("/staff/entries/<uid>/merge")
@staff_page
def merge_search(uid: str) -> str:
    """Other stories matching `?find=` (the site's search syntax), to pick the one to merge
    in. Not `?q=`: that is the header's search box, which searches the river."""
    state = current_state()
    found = _staff_entry(uid)
    search = params.search_filter(MultiDict({"q": request.args.get("find", "")}), state.config)
    choices: tuple[StoredEntry, ...] = ()
    if search is not None:
        query = EntryQuery(limit=MERGE_CHOICES + 1)
        page = params.matching_page(state.store, query, search, "relevance")
        choices = tuple(e for e in page.entries if e.id != uid)[:MERGE_CHOICES]
    text = search.text if search else ""
    return render_template(
        "staff/merge_search.html", staff=found, merge_query=text, choices=choices
    )


@bp.get("/staff/entries/<uid>/merge/<other>")
@staff_page
def confirm_merge(uid: str, other: str) -> str:
    found, joining = _staff_entry(uid), _staff_entry(other)
    # What the store would refuse, said before the staff member confirms.
    shared = {r.source_title for r in found.reports if r.source_id in _sources_of(joining)}
    return render_template(
        "staff/confirm_merge.html",
        staff=found,
        other=joining,
        same=found.entry.id == joining.entry.id,
        shared=sorted(shared),
    )


def _sources_of(found: StaffEntry) -> set[str]:
    return {report.source_id for report in found.reports}


@bp.post("/staff/entries/<uid>/merge")
@staff_action
def force_merge(uid: str) -> Response | tuple[str, int]:
    other = request.form.get("other", "").strip()
    store = current_state().store
    joining = store.entry(other)
    try:
        store.force_merge(uid, other, _actor(), _now())
    except StoreError as error:
        return _page(uid, problem=t("staff.refused", reason=error)), 400
    flash(t("staff.done_merge", title=joining.title if joining else other))
    return redirect(page_url("reader.story", uid=uid))


def _page(uid: str, problem: str | None = None) -> str:
    """The entry's page; `problem` says why an action on it was refused."""
    return render_template(
        "staff/entry.html",
        staff=_staff_entry(uid),
        explanations=current_state().store.explain_reports(uid),
        source_titles=source_titles(),
        problem=problem,
    )


def _staff_entry(uid: str) -> StaffEntry:
    found = current_state().store.staff_entry(uid)
    if found is None:
        raise params.InvalidParameter(404, "error.unknown_entry", value=uid)
    return found


def source_titles() -> dict[str, str]:
    """Each source's title by its id (the staff log records ids)."""
    return {health.id: health.title for health in current_state().store.source_health()}


def _source_title(source_id: str) -> str:
    return source_titles().get(source_id) or source_id


def _actor() -> str:
    return staff_name() or ""  # staff_action has checked someone is signed in


def _now() -> datetime:
    return datetime.now(UTC)
