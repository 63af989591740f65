"""Fold text to one comparable form, character for character.

`fold` is what search and near-duplicate detection compare: two spellings a reader
would call "the same word" fold to the same string. The fold never changes the
length of the text (one character in, one character out), so a match found at
position i of the folded text is at position i of the original: highlighting
relies on that.

What is folded:
- full-width ASCII (ＧＴＣ２０２５) and the ideographic space to ASCII;
- ASCII letters to lower case (only ASCII: `str.lower` may lengthen other scripts);
- Traditional and Simplified Chinese to one common form, the Simplified one.
  Traditional → Simplified is (nearly) a function: 發 and 髮 both become 发,
  臺, 颱 and 檯 all become 台. The other direction is one-to-many (台 → 臺 檯 颱 台)
  and would force a guess per character. Folding to Simplified merges a few
  characters that Traditional text keeps apart (後/后, 乾/幹/干); for search and
  duplicate detection that costs a little precision and never loses a match.
  The table is OpenCC's character dictionaries as bundled with
  `opencc-python-reimplemented`: first the Taiwan variant table (着 → 著,
  峯 → 峰, 裏 → 裡), then Traditional → Simplified, first candidate only;
- a few variant pairs that OpenCC leaves apart (`_EXTRA_VARIANTS`).

The table is built once, at import. Changing it changes every folded string, so
a search index built with the old table must be rebuilt (a migration).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from importlib import resources

# Variant pairs that occur in Taiwanese text and that OpenCC's tables do not join.
_EXTRA_VARIANTS: Mapping[str, str] = {
    "衞": "衛",
    "峩": "峨",
    "兎": "兔",
    "粧": "妝",
    "綫": "線",
}

_FULL_WIDTH_OFFSET = 0xFF01 - 0x21  # U+FF01..U+FF5E mirror ASCII 0x21..0x7E
_IDEOGRAPHIC_SPACE = "\u3000"


def _opencc_single_chars(name: str) -> Iterator[tuple[str, str]]:
    """(source, first target) for each single-character line of an OpenCC dictionary."""
    dictionary = resources.files("opencc") / "dictionary" / name
    for line in dictionary.read_text(encoding="utf-8").splitlines():
        source, _, targets = line.partition("\t")
        target = targets.split(" ", 1)[0]
        if len(source) == 1 and len(target) == 1:
            yield source, target


def _chinese_fold_map() -> dict[str, str]:
    steps = [
        dict(_EXTRA_VARIANTS),
        dict(_opencc_single_chars("TWVariants.txt")),
        dict(_opencc_single_chars("TSCharacters.txt")),
    ]
    folded: dict[str, str] = {}
    for step in steps:
        for source in step:
            folded.setdefault(source, source)
    for source in folded:
        # Repeat the chain to a fixed point: TS has chains such as 薴 → 苧 → 苎.
        target, previous = source, ""
        while target != previous:
            previous = target
            for step in steps:
                target = step.get(target, target)
        folded[source] = target
    return {source: target for source, target in folded.items() if source != target}


def _fold_table() -> dict[int, str]:
    table: dict[int, str] = {ord(c): c.lower() for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}
    for code in range(0x21, 0x7F):
        table[code + _FULL_WIDTH_OFFSET] = chr(code).lower()
    table[ord(_IDEOGRAPHIC_SPACE)] = " "
    for source, target in _chinese_fold_map().items():
        table[ord(source)] = target
    return table


_FOLD_TABLE = _fold_table()


def fold(text: str) -> str:
    """The comparable form of `text`; always exactly as long as `text`."""
    return text.translate(_FOLD_TABLE)
