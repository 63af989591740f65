"""Characters no text of ours may carry, whoever sent it: a server's headers and status
line, a feed's fields, what the store keeps and what the feeds we write hold."""

from __future__ import annotations

import re

# Characters XML 1.0 forbids: C0 controls other than tab, newline and carriage
# return, the non-characters U+FFFE/U+FFFF, and surrogates (always lone in a str).
# PostgreSQL refuses NUL in text too.
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def strip_control_chars(text: str) -> str:
    """Remove the characters that would make an XML document we write ill-formed."""
    return _XML_FORBIDDEN.sub("", text)
