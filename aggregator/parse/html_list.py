"""Reading a news list page, for sites that publish no feed at all (kind: html).

Such a page (`News.aspx?n=...`, `Lpsimplelist`) is a table or list of headlines with dates,
each linking to the item's own page. The source's CSS selectors (`ListSelectors`) say where
the items are. A selector that finds nothing means the site changed its layout: that is a
ParseError naming the selector, never a poll that quietly stores nothing or stores rubbish.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from aggregator.models import ListSelectors
from aggregator.parse.raw import ParseError, RawEntry, RawFeed, RawText

__all__ = ["document_links", "item_content", "read_html_list", "selector_problem"]

_ELLIPSES = ("...", "…", "⋯")
_DOCUMENT_SUFFIXES = (".pdf",)


def selector_problem(selector: str) -> str | None:
    """Why `selector` is not a CSS selector this reader can use, or None when it is."""
    if not selector.strip():
        return "an empty selector"
    try:
        LexborHTMLParser("").css(selector)
    except SelectolaxError:
        return f"{selector!r} is not a valid CSS selector"
    return None


def read_html_list(text: str, selectors: ListSelectors) -> RawFeed:
    page = LexborHTMLParser(text)
    try:
        return _read(page, selectors)
    except SelectolaxError:
        raise ParseError(
            "one of the source's selectors is not valid CSS (`aggregator check` names it)"
        ) from None


def _read(page: LexborHTMLParser, selectors: ListSelectors) -> RawFeed:
    items = page.css(selectors.item)
    if not items:
        raise ParseError(_nothing_found("item", selectors.item, within=None))
    found: dict[str, bool] = {"title": False, "link": False, "date": selectors.date is None}
    entries: list[RawEntry] = []
    for item in items:
        title_node = item.css_first(selectors.title)
        link_node = item.css_first(selectors.link)
        date_node = item.css_first(selectors.date) if selectors.date else None
        summary_node = item.css_first(selectors.summary) if selectors.summary else None
        title = _headline(title_node) if title_node is not None else ""
        link = _href(link_node) if link_node is not None else None
        found["title"] |= bool(title)
        found["link"] |= link is not None
        found["date"] |= date_node is not None
        # A header row or a "no data" row inside the list: not a news item.
        if not title or link is None:
            continue
        summary = _text(summary_node) if summary_node is not None else ""
        entries.append(
            RawEntry(
                guid=None,
                link=link,
                title=RawText(title, is_html=False),
                summary=RawText(summary, is_html=False) if summary else None,
                content=None,
                published=_text(date_node) or None if date_node is not None else None,
                updated=None,
                author=None,
                tags=(),
            )
        )
    for role, selector in (
        ("title", selectors.title),
        ("link", selectors.link),
        ("date", selectors.date),
    ):
        if not found[role]:
            raise ParseError(_nothing_found(role, str(selector), within=selectors.item))
    title_node = page.css_first("title")
    return RawFeed(
        title=RawText(_text(title_node), is_html=False) if title_node is not None else None,
        link=None,
        entries=tuple(entries),
    )


def _nothing_found(role: str, selector: str, *, within: str | None) -> str:
    where = "on the page" if within is None else f"in any item ({within!r})"
    return (
        f"the {role} selector {selector!r} matches nothing {where}: the site has probably "
        "changed its layout, so the source's 'selectors' need updating"
    )


def _text(node: LexborNode) -> str:
    return " ".join(node.text(deep=True, separator=" ").split())


def _headline(node: LexborNode) -> str:
    """The headline; these CMSes cut long ones short with "..." and keep the whole in the
    link's title attribute."""
    shown = _text(node)
    whole = " ".join((node.attributes.get("title") or "").split())
    cut = shown.rstrip("".join(_ELLIPSES)).rstrip()
    if shown.endswith(_ELLIPSES) and whole.startswith(cut) and len(whole) > len(cut):
        return whole
    return shown


def _href(node: LexborNode) -> str | None:
    """The node's href, or that of the first link inside it; relative, resolved later."""
    anchor = node if node.attributes.get("href") else node.css_first("a[href]")
    href = anchor.attributes.get("href") if anchor is not None else None
    return href.strip() or None if href else None


def item_content(text: str, selector: str) -> str | None:
    """The inner HTML of the first element `selector` finds on an item's own page (links to
    its attachments included), or None when it finds none: unsanitised, still relative."""
    try:
        node = LexborHTMLParser(text).css_first(selector)
    except SelectolaxError:
        return None
    if node is None:
        return None
    inner = "".join(child.html or "" for child in node.iter(include_text=True))
    return inner if inner.strip() else None


def document_links(content: str) -> tuple[str, ...]:
    """The absolute URLs of the documents (PDF) that sanitised `content` links to, once each,
    in order: a press release's attachments."""
    links = (node.attributes.get("href") or "" for node in LexborHTMLParser(content).css("a[href]"))
    return tuple(dict.fromkeys(
        link for link in links
        if urlsplit(link).scheme in ("http", "https")
        and urlsplit(link).path.lower().endswith(_DOCUMENT_SUFFIXES)
    ))
