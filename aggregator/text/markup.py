"""Sanitised HTML → its text: the one way the project reads text out of HTML.

Block ends become line breaks (the story rules in `story.py` and duplicate detection's
learnt boilerplate work line by line). Every other tag is a word boundary: a space where
both sides are letters or digits of a script that separates words with spaces
("<b>GTC</b>2025" is two words), nothing between Chinese characters, each of which is a
word of its own to search ("<b>高雄</b>市" stays as published). Entities are unescaped and
whitespace collapsed within each line.

The input is HTML that `aggregator.parse.sanitize.sanitize_html` has made safe: scripts and
styles are gone with their contents, so every remaining text node is text.
"""

from __future__ import annotations

from html.parser import HTMLParser

_BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "caption", "dd", "div", "dl", "dt",
        "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
        "li", "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul",
    }
)  # fmt: skip
# Scripts from U+2E80 on (CJK, kana, Hangul, full-width forms) need no space between words.
_FIRST_UNSPACED_SCRIPT = "\u2e80"


def _spaced_word_character(character: str) -> bool:
    return character.isalnum() and character < _FIRST_UNSPACED_SCRIPT


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._last = "\n"  # the last character collected
        self._after_tag = False

    def _tag(self, tag: str) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")
            self._last = "\n"
        else:
            self._after_tag = True

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag)

    def handle_endtag(self, tag: str) -> None:
        self._tag(tag)

    def handle_data(self, data: str) -> None:
        if not data:
            return
        if self._after_tag and _spaced_word_character(self._last) and _spaced_word_character(
            data[0]
        ):
            self.parts.append(" ")
        self._after_tag = False
        self.parts.append(data)
        self._last = data[-1]


def markup_text(sanitised_html: str) -> str:
    """The text of sanitised HTML: one line per block, no empty lines, words separated."""
    collector = _TextCollector()
    collector.feed(sanitised_html)
    collector.close()
    lines = (" ".join(line.split()) for line in "".join(collector.parts).split("\n"))
    return "\n".join(line for line in lines if line)


def inline_text(sanitised_html: str) -> str:
    """The text of sanitised HTML on one line: a title, a summary shown as text."""
    return " ".join(markup_text(sanitised_html).split())
