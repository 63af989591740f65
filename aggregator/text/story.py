"""A report's clean text: its own words, without what a publisher puts around every story.

`story_text` is the one way text is read out of a report: merging fingerprints it, search
indexes it, watches match it. So a headline in a 相關新聞 list, which merging ignores, does
not make its story a search hit either. Removed, line by line (lines are blocks, see
`markup.py`):
- a related-stories heading (相關新聞, 延伸閱讀, ...) and everything after it; an inline
  "延伸閱讀：" list from where it starts;
- bylines and credits: （中央社記者林宏杰高雄18日電）, 【記者王小明／高雄報導】, 文／王小明;
- share prompts (分享到, 加入LINE, 按讚) on a short line;
- contact lines of press releases, from 新聞聯絡人 / 聯絡電話： to the end of the line.
Duplicate detection removes more on top, for comparison only (subheadings, a source's
learnt header and footer: `aggregator.dedupe.boilerplate`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from aggregator.text.markup import markup_text

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
_SHARE_PROMPT = re.compile(
    r"分享到|分享至|加入\s*line|按讚|追蹤我們|訂閱(?:電子報|頻道)|下載\s*app|點我看", re.IGNORECASE
)
_SHARE_PROMPT_MAX_CHARS = 30
# 新聞聯絡人：王小明 聯絡電話：07-3368333; a release puts it after the story, often in the
# story's last paragraph.
_CONTACT = re.compile(r"新聞聯絡人|(?:聯絡人|聯[絡繫]電話|連絡電話)\s*[：:]")


def story_text(sanitised_html: str) -> str:
    """The clean text of a report's sanitised HTML, one line per block."""
    kept: list[str] = []
    for line in markup_text(sanitised_html).splitlines():
        if _RELATED_HEADING.match(line) and len(line) <= _RELATED_HEADING_MAX_CHARS:
            break
        inline_related = _RELATED_INLINE.search(line)
        if inline_related:
            line = line[: inline_related.start()]
        contact = _CONTACT.search(line)
        if contact:
            line = line[: contact.start()]
        for byline in _BYLINES:
            line = byline.sub("", line)
        if not (
            _BYLINE_LINE.match(line)
            or (_SHARE_PROMPT.search(line) and len(line) <= _SHARE_PROMPT_MAX_CHARS)
        ):
            kept.append(line)
        if inline_related:
            break
    return "\n".join(stripped for line in kept if (stripped := line.strip()))


def entry_text(report_htmls: Iterable[str]) -> str:
    """The clean text of every report of an entry, each line once, in order: a name that
    only a rewrite mentions is in it, a paragraph that every copy repeats only once."""
    lines = (line for html in report_htmls for line in story_text(html).splitlines())
    return "\n".join(dict.fromkeys(lines))
