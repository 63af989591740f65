"""How two reports of one story differ, for the story page: the sentences and numbers each
has that the other lacks. Pure: text in, differences out.

Both reports are read with `story_text` (bylines, related-news lists and contact lines are
not the story) and compared in `normalize`d form, so a copy that only changed 台 to 臺,
full-width digits or 今(22)日 to 22日 does not count as saying something else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from aggregator.text.normalize import normalize
from aggregator.text.story import story_text

# A sentence ends at a full stop, question or exclamation mark (either width) or a line.
_SENTENCE_END = re.compile(r"(?<=[。！？!?])|\n")
# After `normalize`: thousands separators are gone, a decimal point between digits stays.
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


@dataclass(frozen=True, slots=True)
class ReportDifference:
    """What one report says beyond the shown one (`added_*`) and what of it it leaves out
    (`missing_*`). Sentences as the report wrote them; numbers as written in normalised
    form (full-width digits made ASCII, 1,200 as 1200)."""

    added_sentences: tuple[str, ...]
    missing_sentences: tuple[str, ...]
    added_numbers: tuple[str, ...]
    missing_numbers: tuple[str, ...]

    @property
    def same(self) -> bool:
        return not (
            self.added_sentences
            or self.missing_sentences
            or self.added_numbers
            or self.missing_numbers
        )


def compare_reports(shown_html: str, other_html: str) -> ReportDifference:
    """How the report `other_html` differs from the shown report `shown_html` (both
    sanitised HTML)."""
    shown, other = sentences(shown_html), sentences(other_html)
    shown_keys = {normalize(sentence) for sentence in shown}
    other_keys = {normalize(sentence) for sentence in other}
    shown_numbers, other_numbers = _numbers(shown), _numbers(other)
    return ReportDifference(
        added_sentences=tuple(s for s in other if normalize(s) not in shown_keys),
        missing_sentences=tuple(s for s in shown if normalize(s) not in other_keys),
        added_numbers=tuple(n for n in other_numbers if n not in shown_numbers),
        missing_numbers=tuple(n for n in shown_numbers if n not in other_numbers),
    )


def sentences(sanitised_html: str) -> tuple[str, ...]:
    """The story's sentences, in order, each once; empty and punctuation-only ones left out."""
    pieces = (piece.strip() for piece in _SENTENCE_END.split(story_text(sanitised_html)))
    kept = (piece for piece in pieces if normalize(piece).strip())
    return tuple(dict.fromkeys(kept))


def _numbers(sentences_: Iterable[str]) -> tuple[str, ...]:
    found = (number for s in sentences_ for number in _NUMBER.findall(normalize(s)))
    return tuple(dict.fromkeys(found))
