"""Mark where a query matched, for the reader view.

Matches are found the way the index finds them (the query's token sequences, with each
character's spellings, among the text's tokens, see `terms.py`) on the folded text, and
marked on the original text: the fold keeps every character in place. It marks the text
the reader is shown, whatever part of it the index holds. Everything else is escaped.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from aggregator.search.query import SearchQuery
from aggregator.search.terms import tokens


def highlight(text: str, query: SearchQuery) -> Markup:
    """`text` as HTML, with each match of the query's (non-excluded) terms in <mark>."""
    found = tokens(text)
    words = [token.text for token in found]
    spans: list[tuple[int, int]] = []
    for term in query.terms:
        last = len(term.tokens) - 1
        spans.extend((found[first].start, found[first + last].end) for first in term.starts(words))
    html = Markup()
    shown = 0
    for start, end in _merged(spans):
        html += escape(text[shown:start]) + Markup("<mark>") + escape(text[start:end])
        html += Markup("</mark>")
        shown = end
    return html + escape(text[shown:])


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping or touching spans as one, in order."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
