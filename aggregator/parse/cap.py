"""Reading disaster alerts: CAP 1.1/1.2 (Common Alerting Protocol) in Atom, or alone.

The national disaster agency publishes an Atom feed of alerts (typhoons, 停班停課 per city,
road closures). An alert's CAP details come either as `cap:` elements of the Atom entry,
as a CAP `<alert>` embedded in the entry, or in a CAP document of its own (a body whose
root is `<alert>`). Each entry carries the alert's expiry, severity and areas. The feed
keeps alerts long after they expire: an alert already expired when fetched is not news,
so it is left out, and so are tests and exercises (CAP status other than Actual).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from xml.etree import ElementTree

from aggregator.models import AlertArea
from aggregator.parse.charset import with_utf8_declaration
from aggregator.parse.dates import parse_date
from aggregator.parse.raw import ParseError, RawEntry, RawFeed, RawText
from aggregator.text.fold import fold

__all__ = ["area_categories", "read_cap"]

_Element = ElementTree.Element
_ExpiryReader = Callable[[str | None], datetime | None]
# parse_date never gives a date later than the `now` it is given (a published date in the
# future is a wrong clock), but an expiry lies ahead: it is read against this horizon.
_EXPIRY_HORIZON = timedelta(days=366)


def read_cap(text: str, *, now: datetime, timezone: str) -> RawFeed:
    """Alerts in force at `now` (or with no expiry), from an Atom feed or a CAP document.
    CAP dates carry their offset; the agency's Atom entries write theirs zone-less in
    `timezone`, with Chinese AM/PM (2026/3/10 上午 12:00:00)."""
    if "<!DOCTYPE" in text[:4096].upper():
        # Neither Atom nor CAP needs one; refusing it refuses entity expansion attacks too.
        raise ParseError("the document declares a DOCTYPE, which no alert feed needs")
    try:
        root = ElementTree.fromstring(with_utf8_declaration(text).encode("utf-8"))
    except ElementTree.ParseError as error:
        line, column = error.position
        reason = f"the alert feed is not well-formed XML: line {line}, column {column}"
        raise ParseError(reason) from None
    if _local(root.tag) == "alert":
        alerts: list[tuple[_Element, _Element | None]] = [(root, None)]
        title = None
    elif _local(root.tag) == "feed":
        alerts = [(_embedded_alert(entry), entry) for entry in _all(root, "entry")]
        title = _child_text(root, "title")
    else:
        raise ParseError(
            f"the document's root element is <{_local(root.tag)}>, not an Atom <feed> of "
            "alerts or a CAP <alert>: is kind: cap right for this source?"
        )

    def expiry(text: str | None) -> datetime | None:
        horizon = now + _EXPIRY_HORIZON
        return None if text is None else parse_date(text, timezone=timezone, now=horizon)

    entries = (
        _alert_entry(alert, atom=atom, expiry=expiry)
        for alert, atom in alerts
        if (_child_text(alert, "status") or "Actual").capitalize() == "Actual"
    )
    return RawFeed(
        title=_plain_text(title),
        link=None,
        entries=tuple(
            entry for entry in entries if entry.expires is None or entry.expires > now
        ),
    )


def _embedded_alert(entry: _Element) -> _Element:
    """The entry's CAP <alert> when it carries one (in <content> or directly), else the
    entry itself, whose `cap:` elements are then read in its place."""
    return next((element for element in entry.iter() if _local(element.tag) == "alert"), entry)


def _alert_entry(alert: _Element, *, atom: _Element | None, expiry: _ExpiryReader) -> RawEntry:
    info = _info(alert)
    headline = _child_text(info, "headline")
    event = _child_text(info, "event")
    title = headline or (_child_text(atom, "title") if atom is not None else None) or event
    description = _paragraphs(info, "description")
    summary = _atom_text(atom, "summary") if atom is not None else None
    sender = _child_text(info, "senderName")
    return RawEntry(
        guid=(_child_text(atom, "id") if atom is not None else None)
        or _child_text(alert, "identifier"),
        link=(_atom_link(atom) if atom is not None else None) or _child_text(info, "web"),
        title=_plain_text(title),
        summary=summary or _plain_text(description),
        content=_plain_text(description),
        published=_child_text(alert, "sent")
        or _child_text(info, "effective")
        or (_child_text(atom, "published") if atom is not None else None),
        updated=_child_text(atom, "updated") if atom is not None else None,
        author=_atom_author(atom) if atom is not None else None,
        tags=(event,) if event else _atom_categories(atom),
        agency=sender,
        expires=expiry(_child_text(info, "expires")),
        severity=_child_text(info, "severity"),
        areas=_areas(info),
    )


def _info(alert: _Element) -> _Element:
    """The <info> block to read: the Traditional Chinese one when there are several; an
    Atom entry with `cap:` elements holds them itself."""
    blocks = _all(alert, "info")
    chinese = (b for b in blocks if (_child_text(b, "language") or "").lower() == "zh-tw")
    return next(chinese, blocks[0] if blocks else alert)


def _areas(info: _Element) -> tuple[AlertArea, ...]:
    """A CAP <info>'s <area> blocks; an Atom entry holds areaDesc and geocodes itself."""
    blocks = _all(info, "area") or ([info] if _all(info, "areaDesc") else [])
    return tuple(_area(block) for block in blocks)


def _area(area: _Element) -> AlertArea:
    return AlertArea(
        name=_child_text(area, "areaDesc") or "",
        geocodes=tuple(
            value for geocode in _all(area, "geocode") if (value := _child_text(geocode, "value"))
        ),
    )


def _atom_link(entry: _Element) -> str | None:
    links = _all(entry, "link")
    alternate = [link for link in links if link.get("rel", "alternate") == "alternate"]
    return next((link.get("href") for link in alternate or links), None)


def _atom_author(entry: _Element) -> str | None:
    author = next(iter(_all(entry, "author")), None)
    return _child_text(author, "name") if author is not None else None


def _plain_text(text: str | None) -> RawText | None:
    return RawText(text, is_html=False) if text else None


def _atom_text(entry: _Element, name: str) -> RawText | None:
    text = _child_text(entry, name)
    if text is None:
        return None
    kind = next(iter(_all(entry, name))).get("type", "text")
    return RawText(text, is_html=kind in ("html", "xhtml"))


def _atom_categories(entry: _Element | None) -> tuple[str, ...]:
    if entry is None:
        return ()
    return tuple(term for category in _all(entry, "category") if (term := category.get("term")))


def _local(tag: object) -> str:
    # Atom and CAP elements are matched by local name: feeds get their namespaces wrong.
    return str(tag).rsplit("}", 1)[-1]


def _all(parent: _Element, name: str) -> list[_Element]:
    return [child for child in parent if _local(child.tag) == name]


def _child_text(parent: _Element, name: str) -> str | None:
    child = next(iter(_all(parent, name)), None)
    return _text(child) if child is not None else None


def _text(element: _Element) -> str | None:
    return " ".join("".join(element.itertext()).split()) or None


def _paragraphs(parent: _Element, name: str) -> str | None:
    """Like `_child_text`, keeping the line breaks that separate a description's parts."""
    child = next(iter(_all(parent, name)), None)
    if child is None:
        return None
    lines = (" ".join(line.split()) for line in "".join(child.itertext()).splitlines())
    return "\n".join(line for line in lines if line) or None


def area_categories(
    areas: tuple[AlertArea, ...], mapping: tuple[tuple[str, str], ...]
) -> tuple[str, ...]:
    """The categories a source's `areas:` sends an alert to: each key matches an area's
    name or one of its geocodes, folded (an alert's 台北市 is the configuration's 臺北市)."""
    keys = {fold(key) for area in areas for key in (area.name, *area.geocodes)}
    return tuple(dict.fromkeys(slug for key, slug in mapping if fold(key) in keys))
