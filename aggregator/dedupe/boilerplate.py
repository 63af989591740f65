"""Remove, for comparison only, what duplicate detection must not count: the subheadings an
edited rewrite adds, title tags, and the header and footer a source repeats on every entry.

Works on a report's clean text (`aggregator.text.story.story_text`, which has already removed
bylines, related-story lists, share prompts and contact lines), line by line, before
normalisation: the markers are easiest to recognise in the text as published.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator

from aggregator.text.normalize import normalize

# A subheading an edited rewrite adds: 【前鎮瑞隆里2例　研判社區感染】, ■主要幹道改道.
# It repeats the story in other words (and its numbers out of their sentence's context).
_SUBHEADING = re.compile(r"^(?:【[^】]{1,24}】|〔[^〕]{1,24}〕|[■▍▌].{1,24})$")
# Leading tags of a title: 【中央社】, 〔即時新聞〕, [快訊]; a trailing " | site" or "｜site".
_TITLE_TAGS = re.compile(r"^\s*(?:[【〔\[［《][^】〕\]］》]{1,12}[】〕\]］》]\s*)+")
_TITLE_SITE_SUFFIX = re.compile(r"(?:\s+[|\-–—]\s+|\s*｜\s*)[^|｜\-–—]{1,12}$")

# A segment is a line, or a sentence of a long line: a repeated footer may share a line
# with the story when a feed's HTML has no paragraphs.
_SENTENCE_END = re.compile(r"(?<=[。！？!?])")


def strip_title_affixes(title: str) -> str:
    """The title without the tags and site names republishers add around it."""
    return _TITLE_SITE_SUFFIX.sub("", _TITLE_TAGS.sub("", title)).strip()


def segments(text: str) -> Iterator[str]:
    """The non-empty lines of `text`, long lines cut after each sentence."""
    for line in text.splitlines():
        for segment in _SENTENCE_END.split(line):
            if segment.strip():
                yield segment


def learn_boilerplate(texts: Iterable[str], *, min_share: float = 0.5) -> frozenset[str]:
    """The normalised segments that recur in at least `min_share` of a source's clean texts
    (and in at least three of them): the source's own header and footer."""
    counts: Counter[str] = Counter()
    total = 0
    for text in texts:
        total += 1
        counts.update({normalize(segment) for segment in segments(text)} - {""})
    needed = max(3, min_share * total)
    return frozenset(segment for segment, count in counts.items() if count >= needed)


def strip_boilerplate(text: str, learnt: frozenset[str] = frozenset()) -> str:
    """The story alone: a clean `text` without subheadings and the segments of `learnt`
    (see `learn_boilerplate`)."""
    kept: list[str] = []
    for line in text.splitlines():
        if _SUBHEADING.match(line):
            continue
        if learnt:
            line = "".join(s for s in segments(line) if normalize(s) not in learnt)
        kept.append(line)
    return "\n".join(line for line in kept if line.strip())
