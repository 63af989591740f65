"""Fold text to a comparable form, character for character, and spell a query character
every way the index may hold it.

Two folds, because search and duplicate detection want different things:

- `fold`, for the search index and highlighting, folds only what is one character written
  two ways: full-width ASCII (ＧＴＣ２０２５) and the ideographic space to ASCII, ASCII
  letters to lower case (only ASCII: `str.lower` may lengthen other scripts), and true
  variants (臺/台, 峯/峰, 裏/裡, 着/著: OpenCC's Taiwan variant table, plus
  `_EXTRA_VARIANTS`). Traditional characters that Simplified merges stay apart (颱 and
  臺, 後 and 后, 乾/幹/干), so `颱` never finds 臺北.
- `fold_simplified`, for duplicate detection, goes on to Simplified (OpenCC's Traditional
  → Simplified table, first candidate): two whole stories are compared by their 4-character
  shingles, where 后 for 後 costs next to nothing, while a Simplified republication that
  stayed apart would be a duplicate shown twice.

Both keep the length of the text (one character in, one character out), so a match found at
position i of the folded text is at position i of the original: highlighting relies on that.

`query_spellings` goes the other way, at query time: a Simplified character may stand for
several Traditional ones (台 for 臺, 颱, 檯), so the query asks for any of them; a
Traditional character also finds its Simplified form when that form is Simplified only
(風 → 风, but not 颱 → 台, since 台 is also Traditional text's spelling of 臺).

The tables come from OpenCC's character dictionaries as bundled with
`opencc-python-reimplemented` and are built once, at import. Changing `fold` changes the
index's tokens, so the index must be rebuilt (a migration); changing `fold_simplified`
changes every fingerprint.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from importlib import resources

# True variant pairs of Taiwanese text that OpenCC's Taiwan variant table does not join.
_EXTRA_VARIANTS: Mapping[str, str] = {
    "臺": "台",
    "衞": "衛",
    "峩": "峨",
    "兎": "兔",
    "粧": "妝",
    "綫": "線",
}

_FULL_WIDTH_OFFSET = 0xFF01 - 0x21  # U+FF01..U+FF5E mirror ASCII 0x21..0x7E
_IDEOGRAPHIC_SPACE = "\u3000"


def _opencc_lines(name: str) -> Iterator[tuple[str, list[str]]]:
    """(source, targets) for each single-character line of an OpenCC dictionary."""
    dictionary = resources.files("opencc") / "dictionary" / name
    for line in dictionary.read_text(encoding="utf-8").splitlines():
        source, _, targets = line.partition("\t")
        characters = [target for target in targets.split(" ") if len(target) == 1]
        if len(source) == 1 and characters:
            yield source, characters


def _first_candidates(name: str) -> dict[str, str]:
    return {source: targets[0] for source, targets in _opencc_lines(name)}


def _chained(steps: list[dict[str, str]]) -> dict[str, str]:
    """Each source character through every step, repeated to a fixed point (the tables
    have chains such as 薴 → 苧 → 苎); only the characters that change."""
    folded: dict[str, str] = {}
    for step in steps:
        for source in step:
            target, previous = source, ""
            while target != previous:
                previous = target
                for each in steps:
                    target = each.get(target, target)
            folded[source] = target
    return {source: target for source, target in folded.items() if source != target}


def _table(chinese: Mapping[str, str]) -> dict[int, str]:
    table: dict[int, str] = {ord(c): c.lower() for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}
    for code in range(0x21, 0x7F):
        table[code + _FULL_WIDTH_OFFSET] = chr(code).lower()
    table[ord(_IDEOGRAPHIC_SPACE)] = " "
    for source, target in chinese.items():
        table[ord(source)] = target
    return table


_VARIANTS = _chained([dict(_EXTRA_VARIANTS), _first_candidates("TWVariants.txt")])
_TO_SIMPLIFIED = _chained(
    [dict(_EXTRA_VARIANTS), _first_candidates("TWVariants.txt"),
     _first_candidates("TSCharacters.txt")]
)  # fmt: skip
_FOLD_TABLE = _table(_VARIANTS)
_SIMPLIFIED_FOLD_TABLE = _table(_TO_SIMPLIFIED)


def fold(text: str) -> str:
    """The form the search index holds: true variants, full width and ASCII case folded;
    always exactly as long as `text`."""
    return text.translate(_FOLD_TABLE)


def fold_simplified(text: str) -> str:
    """`fold`, then Traditional to Simplified: the form duplicate detection compares;
    always exactly as long as `text`."""
    return text.translate(_SIMPLIFIED_FOLD_TABLE)


def _spelling_table() -> dict[str, tuple[str, ...]]:
    simplified_to_traditional: dict[str, set[str]] = defaultdict(set)
    for simplified, candidates in _opencc_lines("STCharacters.txt"):
        simplified_to_traditional[simplified].update(candidates)
    for source, candidates in _opencc_lines("TSCharacters.txt"):
        simplified_to_traditional[candidates[0]].add(source)
    # A Simplified character that Traditional text never writes: only a Simplified text has it.
    simplified_only = {
        simplified for simplified, traditional in simplified_to_traditional.items()
        if simplified not in traditional
    }  # fmt: skip
    spellings: dict[str, set[str]] = defaultdict(set)
    for simplified, traditional in simplified_to_traditional.items():
        spellings[simplified].update(traditional)
        if simplified in simplified_only:
            for character in traditional:
                spellings[character].add(simplified)
    table: dict[str, tuple[str, ...]] = {}
    for character, others in spellings.items():
        folded = {fold(other) for other in others} - {fold(character)}
        if folded:
            table[character] = (fold(character), *sorted(folded))
    return table


_SPELLINGS = _spelling_table()


def query_spellings(character: str) -> tuple[str, ...]:
    """Every folded character the index may hold where a query has `character`: its own
    `fold` first, then the Traditional characters a Simplified one may stand for and the
    Simplified-only form of a Traditional one."""
    return _SPELLINGS.get(character, (fold(character),))
