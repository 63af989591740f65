"""The reader view (`/`), the story page (`/entries/<id>`) and the embeddable list of a
category (`/embed/<category>`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Blueprint, render_template, request
from markupsafe import Markup, escape

from aggregator.models import Category, EntryQuery
from aggregator.render.compare import compare_reports
from aggregator.search.highlight import highlight
from aggregator.search.query import SearchQuery
from aggregator.text.markup import inline_text
from aggregator.web import i18n, params, responsecache
from aggregator.web.auth import staff_name
from aggregator.web.links import site_url
from aggregator.web.responsecache import store_cached
from aggregator.web.security import frameable
from aggregator.web.state import current_state
from aggregator.web.templating import current_language
from aggregator.web.timefmt import rfc3339

bp = Blueprint("reader", __name__)


@bp.app_template_filter("day_time")
def day_time(moment: datetime, has_time: bool = True) -> str:
    """A published time for the river, the story page and embeds: 今天/昨天
    (Today/Yesterday), which hold until the next day begins in the site's zone; a date
    given without a time is shown as a day."""
    state = current_state()
    now, timezone = state.clock(), state.config.settings.timezone
    responsecache.valid_until(i18n.next_day(now, timezone))
    return i18n.day_time(moment, now, timezone, current_language(), has_time=has_time)


@bp.app_template_filter("machine_day_time")
def machine_day_time(moment: datetime, has_time: bool = True) -> str:
    """The `datetime` attribute of a published time: RFC 3339, or the day (2025-03-16) of
    a date given without a time."""
    if has_time:
        return rfc3339(moment)
    return moment.astimezone(ZoneInfo(current_state().config.settings.timezone)).date().isoformat()


@bp.app_context_processor
def time_zone() -> dict[str, str]:
    """`zone_label`: the zone every time on the page is in (臺北時間 for Asia/Taipei)."""
    return {
        "zone_label": i18n.zone_label(current_state().config.settings.timezone, current_language())
    }


RIVER_PAGE_SIZE = 30
EMBED_DEFAULT_LIMIT = 10
EMBED_MAX_LIMIT = 50


@bp.get("/")
@store_cached
def river() -> str:
    state = current_state()
    river = params.river_request(request.args, state.config, page_size=RIVER_PAGE_SIZE)
    page, search = river.page(state.store), river.search
    source_titles = {health.id: health.title for health in state.store.source_health()}
    category = state.config.categories[river.query.category] if river.query.category else None
    return render_template(
        "reader.html",
        page=page,
        query=river.query,
        category=category,
        # The narrowest feed that holds what is shown: a source's own, else the category's.
        feed=f"source/{river.query.source}"
        if river.query.source
        else river.query.category or "all",
        categories=state.config.categories,
        sources=[
            (source.id, source_titles.get(source.id) or source.id)
            for source in state.config.sources
        ],
        embed_snippet=embed_snippet(site_url(state.config.settings), category)
        if category
        else None,
        search=search.text if search else None,
        # Links keep the search and a non-default order; None leaves a parameter out.
        order=None if river.order == "newest" else river.order,
        marks=None if search is None else Highlighter(search),
        feed_query=f"?{urlencode({'q': search.text})}" if search else "",
    )


@dataclass(frozen=True, slots=True)
class Highlighter:
    """A search's matches marked for the reader view. A summary is shown as its text: marks
    go into text only, and everything but them is escaped."""

    search: SearchQuery

    def title(self, title: str) -> Markup:
        return highlight(title, self.search)

    def summary(self, summary_html: str) -> Markup:
        return highlight(inline_text(summary_html), self.search)


def embed_snippet(base_url: str, category: Category, options: Mapping[str, str] = {}) -> str:
    """The <iframe> code another site pastes to show `category`, with the embed's query
    `options` (limit, theme, lang) when they differ from its defaults."""
    src = f"{base_url}{embed_path(category.slug, options)}"
    return (
        f'<iframe src="{escape(src)}" title="{escape(category.title)}" width="100%" '
        'height="480" style="border:0" loading="lazy"></iframe>'
    )


def embed_path(category: str, options: Mapping[str, str]) -> str:
    query = urlencode(options)
    return f"/embed/{category}" + (f"?{query}" if query else "")


@bp.get("/embed")
def embed_builder() -> str:
    """The code for a category's embed with its options, and a live preview. A GET form:
    without script, submitting it renders the page again; with it, every change does."""
    state = current_state()
    categories = state.config.categories
    chosen = request.args.get("category") or next(iter(categories), "")
    params.require_category(chosen, state.config)
    limit = params.limit(request.args, default=EMBED_DEFAULT_LIMIT, maximum=EMBED_MAX_LIMIT)
    theme = params.theme(request.args)
    language = params.embed_language(request.args)
    options = {
        name: value
        for name, value, default in (
            ("limit", str(limit), str(EMBED_DEFAULT_LIMIT)),
            ("theme", theme, "light"),
            ("lang", language or "", ""),
        )
        if value != default
    }
    return render_template(
        "embed_builder.html",
        categories=categories,
        category=categories[chosen],
        limit=limit,
        limits=(EMBED_DEFAULT_LIMIT, EMBED_MAX_LIMIT),
        theme=theme,
        embed_language=language or "",
        preview=embed_path(chosen, options),
        snippet=embed_snippet(site_url(state.config.settings), categories[chosen], options),
    )


@bp.get("/embed/<category>")
@frameable
@store_cached
def embed(category: str) -> str:
    state = current_state()
    params.require_category(category, state.config)
    limit = params.limit(request.args, default=EMBED_DEFAULT_LIMIT, maximum=EMBED_MAX_LIMIT)
    theme = params.theme(request.args)
    page = params.river_page(state.store, EntryQuery(category=category, limit=limit))
    return render_template(
        "embed.html",
        category=state.config.categories[category],
        entries=page.entries,
        theme=theme,
    )


@bp.get("/search/help")
@store_cached
def search_help() -> str:
    state = current_state()
    return render_template(
        "search_help.html",
        categories=state.config.categories,
        sources=state.config.sources,
    )


@bp.get("/entries/<uid>")
@store_cached
def story(uid: str) -> str:
    """The shown report in full, then every other report with what it adds or leaves out."""
    state = current_state()
    found = state.store.story(uid)
    if found is None:
        raise params.InvalidParameter(404, "error.unknown_entry", value=uid)
    shown, *others = found.reports
    staff = state.store.staff_entry(uid) if staff_name() else None
    return render_template(
        "story.html",
        entry=found.entry,
        shown=shown,
        others=[(other, compare_reports(shown.content, other.content)) for other in others],
        categories=state.config.categories,
        # For signed-in staff: why each report is here, and what the merge decision makes of
        # it beside the shown one.
        merged={report.source_id: report for report in staff.reports} if staff else {},
        explanations=state.store.explain_reports(uid) if staff else {},
    )
