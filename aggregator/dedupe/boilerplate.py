"""Remove what is not the story: bylines, share prompts, related-story lists, title tags,
and the header and footer a source repeats on every entry.

Works on plain text, line by line, before normalisation: the markers are easiest to
recognise in the text as published.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator

from aggregator.text.normalize import normalize

# A heading that starts a list of other stories; it and everything after it go.
_RELATED_HEADING = re.compile(
    r"^[\s▲►▶■●◆★☆【〔\[［《<]*(?:相關新聞|延伸閱讀|更多新聞|相關報導|推薦閱讀|熱門新聞|看更多|你可能也想看)"
)
_RELATED_HEADING_MAX_CHARS = 20
_RELATED_INLINE = re.compile(r"[【〔\[［]?(?:延伸閱讀|相關新聞|更多新聞)[】〕\]］]?\s*[：:]")

_BYLINES = (
    # （中央社記者林宏杰高雄18日電）
    re.compile(r"[（(]\s*中央社[^（()）]{0,30}?電\s*[）)]"),
    # 【記者王小明／高雄報導】, 【南方日報／整理報導】, 〔記者張雅婷／台北報導〕
    re.compile(r"[【〔\[［][^】〕\]］\n]{0,24}(?:記者|報導|特派員)[^】〕\]］\n]{0,24}[】〕\]］]"),
    # （編輯：張均懋）1140318: the wire service's closing editor tag and date code
    re.compile(r"[（(]\s*編輯\s*[：:][^（()）]{1,12}[）)]\s*\d{0,8}"),
)
# A line that is only a byline or a credit: "新聞視界時報 記者 李翌淳 整理報導",
# "記者 張雅婷／台北報導", "文／王小明", "圖／高雄市政府提供".
_BYLINE_LINE = re.compile(
    r"^(?:.{0,16}記者\s*\S{2,4}.{0,12}報導|.{0,16}整理報導|[文圖攝影]{1,2}\s*[／/:：].{0,20})$"
)
# A subheading an edited rewrite adds: 【前鎮瑞隆里2例　研判社區感染】, ■主要幹道改道.
# It repeats the story in other words (and its numbers out of their sentence's context).
_SUBHEADING = re.compile(r"^(?:【[^】]{1,24}】|〔[^〕]{1,24}〕|[■▍▌].{1,24})$")
_SHARE_PROMPT = re.compile(
    r"分享到|分享至|加入\s*line|按讚|追蹤我們|訂閱(?:電子報|頻道)|下載\s*app|點我看", re.IGNORECASE
)
_SHARE_PROMPT_MAX_CHARS = 30

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
    """The normalised segments that recur in at least `min_share` of a source's texts
    (and in at least three of them): the source's own header and footer."""
    counts: Counter[str] = Counter()
    total = 0
    for text in texts:
        total += 1
        counts.update({normalize(segment) for segment in segments(text)} - {""})
    needed = max(3, min_share * total)
    return frozenset(segment for segment, count in counts.items() if count >= needed)


def strip_boilerplate(text: str, learnt: frozenset[str] = frozenset()) -> str:
    """The story alone: `text` without bylines, subheadings, share prompts, a related-stories list
    and everything after it, and the segments of `learnt` (see `learn_boilerplate`)."""
    kept: list[str] = []
    for raw_line in text.splitlines():
        line = raw_line.strip()
        if _RELATED_HEADING.match(line) and len(line) <= _RELATED_HEADING_MAX_CHARS:
            break
        inline_related = _RELATED_INLINE.search(line)
        if inline_related:
            kept.append(line[: inline_related.start()])
            break
        for byline in _BYLINES:
            line = byline.sub("", line)
        if _BYLINE_LINE.match(line) or _SUBHEADING.match(line) or (
            _SHARE_PROMPT.search(line) and len(line) <= _SHARE_PROMPT_MAX_CHARS
        ):
            continue
        if learnt:
            line = "".join(s for s in segments(line) if normalize(s) not in learnt)
        kept.append(line)
    return "\n".join(line for line in kept if line.strip())
