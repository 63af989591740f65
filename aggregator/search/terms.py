"""Text → the tokens the search index holds, with where each token is in the text.

Chinese is not segmented into words: every CJK character (Han, kana, Hangul) is a token
of its own, and a Chinese query becomes a phrase of consecutive characters. Any
segmentation would miss queries that cut across its word boundaries, and one-character
tokens make one- and two-character queries ("颱", "高雄") exact matches. Latin letters and
digits stay whole words ("gtc", "2025"). Everything else (punctuation, spaces, symbols,
"_") separates tokens and is not indexed.

Tokens come from the folded text (`aggregator.text.fold.fold`), which has the same length
as the original, so a token's span also locates it in the original: highlighting uses that.
A query's Chinese character stands for each of its `query_spellings` (台 for 臺, 颱, 檯).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aggregator.text.fold import fold, query_spellings

_CJK_RANGES = (
    "\u2e80-\u2fdf"  # CJK radicals
    "\u3040-\u30ff"  # hiragana, katakana
    "\u3100-\u312f\u31a0-\u31bf"  # bopomofo
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # Han, extension A, compatibility ideographs
    "\uac00-\ud7af"  # Hangul syllables
    "\U00020000-\U0003134f"  # Han extensions B to G
)
_TOKEN = re.compile(rf"[{_CJK_RANGES}]|[^\W_{_CJK_RANGES}]+")
# A longer "word" is an identifier or encoded junk, not something people search for; a bound
# also keeps every token under PostgreSQL's lexeme size limit.
MAX_TOKEN_LENGTH = 60


@dataclass(frozen=True, slots=True)
class Token:
    text: str  # folded
    start: int
    end: int


def tokens(text: str) -> list[Token]:
    """The index tokens of `text`, folded, in order, with their spans in `text`."""
    return [
        Token(match.group(), match.start(), match.end())
        for match in _TOKEN.finditer(fold(text))
        if match.end() - match.start() <= MAX_TOKEN_LENGTH
    ]


def query_tokens(text: str) -> tuple[tuple[str, ...], ...]:
    """The tokens of a query's `text`, each as the index tokens it may match."""
    return tuple(
        query_spellings(text[token.start]) if token.end - token.start == 1 else (token.text,)
        for token in tokens(text)
    )


def token_texts(text: str) -> tuple[str, ...]:
    """The index tokens of `text`, folded, in order (the fast path for indexing)."""
    return tuple(
        token for token in _TOKEN.findall(fold(text)) if len(token) <= MAX_TOKEN_LENGTH
    )
