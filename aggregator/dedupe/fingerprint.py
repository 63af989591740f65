"""The fingerprint of one report: everything the merge decision compares, computed once.

The store persists it (`to_bytes`) next to the report and indexes its `band_keys`, so a
new report is only compared with reports that share a key (see `decision.py` for how
the comparison decides).
"""

from __future__ import annotations

import json
import re
import sys
import zlib
from array import array
from dataclasses import dataclass

from aggregator.dedupe.boilerplate import strip_boilerplate, strip_title_affixes
from aggregator.dedupe.facts import Fact, extract_facts
from aggregator.dedupe.shingles import SHINGLE_CHARS, shingle_hashes, sketch
from aggregator.text.normalize import normalize

# Word choices that republishers swap without changing the story (市府→市政府, 表示→指出),
# in the folded (Simplified) form `normalize` produces.
# A city's short form comes after 市政府→市府 has run (高雄市政府 → 高雄市府 → 高市府), and
# the bureaus' and programmes' usual abbreviations (都市發展局 → 都發局) as wire flashes write them.
_EDIT_SYNONYMS = (
    ("市政府", "市府"),
    ("指出", "表示"),
    ("高雄市府", "高市府"),
    ("台北市府", "北市府"),
    ("台中市府", "中市府"),
    ("台南市府", "南市府"),
    ("都市发展局", "都发局"),
    ("社会住宅", "社宅"),
)

# Candidate keys: every kind of republication must share at least one with its original,
# and each key is a row of the band index, written for every report: the keys per report are
# most of what merging costs the write path (16 for a plain article, 26 before figure keys).
# - LSH bands over the one-permutation MinHash sketch. A pair with Jaccard J shares at least
#   one band with probability 1 - (1 - J^ROWS)^BANDS: with 6 bands of 2 rows that is 0.98
#   at J = 0.7 (light edits measure 0.69 and up), 0.82 at J = 0.5, and 0.002 at J = 0.02
#   (the 99th percentile of two different stories). The sketch only finds candidates,
#   never decides: the decision compares the exact shingle sets. 20 bands found rewrites
#   at J = 0.3 too, but rewrites that reword most sentences fall below that anyway and
#   are found by their figures; with 6 bands, every republication on tests/data/dedup/
#   still shares 2 or more keys with its original (4 bands left k01-rewrite with one).
# - The lead key, the first LEAD_CHARS characters: a truncated summary.
# - The title key: copies under the same title.
# - Lead bands: single minima of the shingles of the first LEAD_BAND_CHARS characters. A
#   wire flash (50-70 characters of the lead, lightly edited: 高雄市政府→高市府, 率領→率)
#   shares a third of those shingles with the release; a single-row band then matches with
#   probability ~0.3 each, so 8 of them find it with ~0.94 (2-row bands found h02-flash
#   not at all). A shingle every release opens with (高市府) crowds its key out.
# - Figure keys (below): an edited rewrite keeps its figures.
BANDS = 6
ROWS = 2
LEAD_CHARS = 24
LEAD_BANDS = 8
# Figure keys: a rewrite that rewords most sentences shares few shingles but keeps its
# figures, so each figure with its unit ("1240户") of at least FIGURE_KEY_DIGITS digits is a
# key, the first MAX_FIGURE_KEYS of the text. Dates and clock times ("22日", "10时") recur
# in every story of a day and are not keys; a figure every story gives ("2025年") crowds
# its key past the store's MAX_KEY_HOLDERS, which then skips it.
FIGURE_KEY_DIGITS = 2
MAX_FIGURE_KEYS = 8
_NOT_FIGURE_UNITS = frozenset("日月时分年")
LEAD_BAND_CHARS = 48
_MIN_TITLE_KEY_CHARS = 4
_FIGURE = re.compile(r"(\d+(?:\.\d+)?)\s?(\D)")
_FORMAT_VERSION = 2  # 1 had band keys as strings ("b03:1a2b3c4d")
# A band key is its kind in the high bits (the band's number, or one of these) over a CRC-32:
# an integer keeps the band index's rows small and its lookups cheap.
_TITLE_KEY_KIND = BANDS
_LEAD_KEY_KIND = BANDS + 1
_FIRST_LEAD_BAND_KIND = BANDS + 2
_FIGURE_KEY_KIND = _FIRST_LEAD_BAND_KIND + LEAD_BANDS


@dataclass(frozen=True, slots=True)
class Fingerprint:
    title_key: str  # normalised title without tags, spaces removed
    shingles: frozenset[int]  # hashes of the story's character shingles
    facts: frozenset[Fact]  # numbers and dates in context
    band_keys: tuple[int, ...]  # for the candidate index: LSH bands, title key, lead key

    def to_bytes(self) -> bytes:
        """A compact, versioned form for the store: a JSON header, then the shingle
        hashes as little-endian unsigned 32-bit integers."""
        header = {
            "v": _FORMAT_VERSION,
            "title": self.title_key,
            "facts": sorted(self.facts),
            "bands": list(self.band_keys),
        }
        hashes = array("I", sorted(self.shingles))
        if sys.byteorder == "big":
            hashes.byteswap()
        return json.dumps(header, ensure_ascii=False).encode() + b"\n" + hashes.tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> Fingerprint:
        """The inverse of `to_bytes`; ValueError on anything else."""
        header_bytes, newline, hash_bytes = data.partition(b"\n")
        if not newline or len(hash_bytes) % 4:
            raise ValueError("not a stored fingerprint: missing header or truncated hashes")
        header = json.loads(header_bytes)
        if header.get("v") != _FORMAT_VERSION:
            raise ValueError(f"stored fingerprint has version {header.get('v')!r}, "
                             f"expected {_FORMAT_VERSION}: recompute it")
        hashes = array("I")
        hashes.frombytes(hash_bytes)
        if sys.byteorder == "big":
            hashes.byteswap()
        return cls(
            title_key=header["title"],
            shingles=frozenset(hashes),
            facts=frozenset((context, value) for context, value in header["facts"]),
            band_keys=tuple(header["bands"]),
        )


def comparable_text(text: str) -> str:
    """`normalize`d text with the synonym swaps of light edits undone."""
    normalised = normalize(text)
    for variant, canonical in _EDIT_SYNONYMS:
        normalised = normalised.replace(variant, canonical)
    return normalised


def _band_key(kind: int, text: str) -> int:
    return (kind << 32) | zlib.crc32(text.encode())


def _figure_keys(story: str) -> list[int]:
    keys: list[int] = []
    for match in _FIGURE.finditer(story):
        value, unit = match.groups()
        if len(value.replace(".", "")) >= FIGURE_KEY_DIGITS and unit not in _NOT_FIGURE_UNITS:
            key = _band_key(_FIGURE_KEY_KIND, value + unit)
            if key not in keys:
                keys.append(key)
                if len(keys) == MAX_FIGURE_KEYS:
                    break
    return keys


def _band_keys(
    title_key: str, story: str, compact: str, shingles: frozenset[int]
) -> tuple[int, ...]:
    minima = sketch(shingles, BANDS * ROWS)
    keys = [
        _band_key(band, repr(minima[band * ROWS : (band + 1) * ROWS]))
        for band in range(BANDS if minima else 0)
    ]
    if len(title_key) >= _MIN_TITLE_KEY_CHARS:
        keys.append(_band_key(_TITLE_KEY_KIND, title_key))
    lead = compact[:LEAD_CHARS]
    if len(lead) == LEAD_CHARS:
        keys.append(_band_key(_LEAD_KEY_KIND, lead))
        opening = sketch(shingle_hashes(compact[:LEAD_BAND_CHARS]), LEAD_BANDS)
        keys.extend(
            _band_key(_FIRST_LEAD_BAND_KIND + band, str(opening[band]))
            for band in range(LEAD_BANDS)
        )
    keys.extend(_figure_keys(story))
    return tuple(keys)


def fingerprint(title: str, text: str, *, boilerplate: frozenset[str] = frozenset()) -> Fingerprint:
    """Fingerprint a report from its title and plain-text body. `boilerplate` is the
    source's learnt header and footer (`learn_boilerplate`)."""
    title_key = comparable_text(strip_title_affixes(title)).replace(" ", "")
    story = comparable_text(strip_boilerplate(text, boilerplate))
    compact = story.replace(" ", "")
    # A body too short to shingle (a title-only feed) is compared by its title as well.
    shingled = compact if len(compact) >= 3 * SHINGLE_CHARS else title_key + compact
    shingles = shingle_hashes(shingled)
    return Fingerprint(
        title_key=title_key,
        shingles=shingles,
        facts=extract_facts(story),
        band_keys=_band_keys(title_key, story, compact, shingles),
    )
