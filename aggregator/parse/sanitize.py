"""Making untrusted feed HTML safe to show (its text: `aggregator.text.markup`).

Everything a feed sends is hostile until it has been through `sanitize_html`:
an explicit allowlist of tags, attributes and URL schemes (nh3, i.e. ammonia),
with scripts, styles, frames and forms removed together with their contents.
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote, urljoin, urlsplit

import nh3

from aggregator.text.chars import strip_control_chars

__all__ = ["sanitize_html", "text_to_html", "web_link"]

_ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "div",
        "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
        "i", "img", "ins", "kbd", "li", "ol", "p", "pre", "q", "s", "small", "span",
        "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time",
        "tr", "u", "ul",
    }
)  # fmt: skip
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "time": {"datetime"},
}
# Removed with everything inside them: their content is code or chrome, not text.
_REMOVED_WITH_CONTENT = frozenset(
    {"script", "style", "iframe", "object", "embed", "form", "noscript", "svg", "math", "template"}
)
_URL_SCHEMES = frozenset({"http", "https", "mailto"})
_URL_ATTRIBUTES = frozenset({"href", "src"})
WEB_SCHEMES = frozenset({"http", "https"})  # the only links offered to a browser


def sanitize_html(html_text: str, *, base_url: str | None = None) -> str:
    """Safe HTML for our pages and feeds; relative href/src resolved against `base_url`."""
    base = base_url if base_url and urlsplit(base_url).scheme in WEB_SCHEMES else None

    def resolve_relative(tag: str, attribute: str, value: str) -> str | None:
        if base is None or attribute not in _URL_ATTRIBUTES:
            return value
        try:
            return value if urlsplit(value).scheme else urljoin(base, value)
        except ValueError:  # unparseable, e.g. "http://[oops": drop the attribute
            return None

    return nh3.clean(
        html_text,
        tags=_ALLOWED_TAGS,
        clean_content_tags=_REMOVED_WITH_CONTENT,
        attributes=_ALLOWED_ATTRIBUTES,
        attribute_filter=resolve_relative,
        url_schemes=_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )


def text_to_html(text: str) -> str:
    """Plain text as HTML: escaped, blank lines as paragraphs, line breaks kept."""
    paragraphs = [part.strip() for part in re.split(r"\n\s*\n", text) if part.strip()]
    return "".join(
        "<p>" + html.escape(paragraph).replace("\n", "<br>") + "</p>" for paragraph in paragraphs
    )


# Embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069): in a title or a
# summary they would reorder the page around them. Marks (U+200E, U+200F) have no reach.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def strip_bidi_controls(text: str) -> str:
    """Remove the bidi controls that reach past their own text."""
    return _BIDI_CONTROLS.sub("", text)


def web_link(url: str | None, base: str | None = None) -> str | None:
    """`url` as an absolute http(s) address, resolved against `base` when relative; else
    None. A source's `javascript:` or `data:` link, an unparseable one, or a relative path
    with nothing to resolve it against must never reach a reader's href. Control characters
    go; inner whitespace, which some government sites leave in their links, is
    percent-encoded rather than losing the link."""
    if not url:
        return None
    cleaned = "".join(
        quote(char) if char.isspace() else char for char in strip_control_chars(url).strip()
    )
    try:
        absolute = urljoin(base, cleaned) if base else cleaned
        parts = urlsplit(absolute)
    except ValueError:  # e.g. "http://[not-an-address]/"
        return None
    if parts.scheme.lower() not in WEB_SCHEMES or not parts.netloc:
        return None
    return absolute
