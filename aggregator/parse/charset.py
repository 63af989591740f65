"""Turning a feed's bytes into text, whatever its server and XML declaration claim.

Taiwanese sources declare "big5" but write cp950 (Microsoft's Big5, which adds
碁 銹 裏 € and more that Python's strict `big5` codec rejects), and headers and
XML declarations often disagree. So we decode ourselves, trying in turn the
encodings that could be right and keeping the first that decodes cleanly.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator

__all__ = ["charset_parameter", "decode_body", "media_type", "with_utf8_declaration"]

# Every name under which servers send Big5; cp950 is its superset in practice,
# and Big5-HKSCS covers the Hong Kong additions cp950 lacks.
_BIG5_NAMES = frozenset({"big5", "big-5", "x-big5", "cn-big5", "csbig5", "cp950", "ms950"})
_BIG5_DECODERS = ("cp950", "big5hkscs")

_SINGLE_BYTE_FAMILIES = ("iso8859", "cp125", "cp437", "cp850", "koi8", "mac-", "latin")

_BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

_XML_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([\w.:-]+)["']""")
_XML_DECLARATION_ENCODING = re.compile(r"""^(\s*<\?xml[^>]*?\bencoding\s*=\s*["'])[\w.:-]+(["'])""")
_CHARSET_PARAMETER = re.compile(r"""charset\s*=\s*["']?([\w.:-]+)""", re.IGNORECASE)


def decode_body(body: bytes, content_type: str | None) -> str:
    """The body as text; undecodable bytes become U+FFFD only when nothing fits."""
    for encoding in _candidate_encodings(body, content_type):
        try:
            return body.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    return body.decode("utf-8", errors="replace")


def with_utf8_declaration(xml_text: str) -> str:
    """The document with its XML declaration (if any) saying what it now is: UTF-8."""
    return _XML_DECLARATION_ENCODING.sub(r"\1utf-8\2", xml_text, count=1)


def media_type(content_type: str | None) -> str | None:
    """"application/rss+xml" out of "application/rss+xml; charset=big5"."""
    if not content_type:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None


def charset_parameter(content_type: str | None) -> str | None:
    match = _CHARSET_PARAMETER.search(content_type or "")
    return match[1].lower() if match else None


def _candidate_encodings(body: bytes, content_type: str | None) -> Iterator[str]:
    for mark, encoding in _BYTE_ORDER_MARKS:
        if body.startswith(mark):
            yield encoding
    # Valid UTF-8 is almost never an accident, so it wins over any declaration.
    yield "utf-8"
    # The XML declaration was written with the document; the header by a server
    # configured once, long ago. Trust the declaration first.
    declaration = _XML_DECLARED_ENCODING.match(body[:1024])
    in_document = declaration[1].decode("ascii") if declaration else None
    declared = [name for name in (in_document, charset_parameter(content_type)) if name]
    single_byte = [name for name in declared if _is_single_byte(name)]
    for name in declared:
        if name.lower() in _BIG5_NAMES:
            yield from _BIG5_DECODERS
        elif name not in single_byte:
            yield name
    # Undeclared and not UTF-8: these sources' legacy encoding is Big5.
    yield from _BIG5_DECODERS
    # Single-byte charsets decode any bytes at all, so they prove nothing: a
    # server's default "iso-8859-1" must not turn a Big5 body into mojibake.
    yield from single_byte


def _is_single_byte(name: str) -> bool:
    try:
        canonical = codecs.lookup(name).name
    except LookupError:
        return False
    return canonical.startswith(_SINGLE_BYTE_FAMILIES)
