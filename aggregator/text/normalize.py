"""Normalise Chinese and English text to the form that duplicate detection compares.

`normalize` is not length-preserving (unlike `aggregator.text.fold.fold_simplified`, which
it builds on): it is for comparing, never for highlighting.

Steps, in order:
1. Unicode NFKC: full-width digits, letters and punctuation become ASCII, compatibility
   forms (①, ㈠, ﹙) their plain forms.
2. `fold_simplified`: variants and Traditional to one (Simplified) form, ASCII lower case;
   then `str.lower` for the other cased scripts.
3. Relative dates as news releases write them, 今(22)日, 今天(22日), 昨（21）日, become
   the plain day, 22日, so a republication that rewrote the date still compares equal.
4. Thousands separators inside numbers go (1,200 → 1200) and a decimal point between
   digits stays; every other run of punctuation, symbols and whitespace becomes one space.
"""

from __future__ import annotations

import re
import unicodedata

from aggregator.text.fold import fold_simplified

# 今(22)日, 今天(22日), 昨(21)日, 明(23)日, 本(22)日; after NFKC the brackets are ASCII.
_RELATIVE_DAY = re.compile(r"[今昨明本][天日]?\s*\(\s*(\d{1,2})\s*日?\s*\)\s*日?")
_THOUSANDS_SEPARATOR = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
# A decimal point is kept; any other run of non-word characters (and "_") is a separator.
_DECIMAL_POINT_OR_SEPARATOR = re.compile(r"(?<=\d)\.(?=\d)|[\W_]+")


def _separator(match: re.Match[str]) -> str:
    return "." if match.group() == "." else " "


def normalize(text: str) -> str:
    """The comparable form of `text`: folded, dates made plain, words separated by one space."""
    folded = fold_simplified(unicodedata.normalize("NFKC", text)).lower()
    dated = _RELATIVE_DAY.sub(r"\1日", folded)
    grouped = _THOUSANDS_SEPARATOR.sub("", dated)
    return _DECIMAL_POINT_OR_SEPARATOR.sub(_separator, grouped).strip()
