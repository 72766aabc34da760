"""People's text: quoted in messages with what a terminal would act on escaped, and folded
for searching."""

from __future__ import annotations

import re
import unicodedata

_COMBINING_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(char: str) -> str:
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def shown(text: str) -> str:
    """The text with every character that is not printable written as an escape (\\n, \\x1b,
    \\u202e): line breaks, terminal escapes, bidi overrides, zero-width and separator characters.

    A cell or an argument quoted in a problem line must stay on that line and print as itself:
    a raw line break would let a cell forge a problem line of its own, and ESC sequences or
    right-to-left overrides would change what the terminal or the dialog shows.
    """
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _escape(char) for char in text)


def fold(text: str) -> str:
    """Lowercase without accents, so typing "schafer" finds Schäfer and "nunez" finds Núñez."""
    if text.isascii():
        return text.lower()
    # Decompose, then drop the combining marks: letters of any script stay, accents go.
    return _COMBINING_MARKS.sub("", unicodedata.normalize("NFKD", text)).casefold()


def file_safe(text: str) -> str:
    """Text as part of a file name on every system (an MRN, say): anything but ASCII letters,
    digits, - and _ becomes _."""
    return "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "_" for c in text) or "_"
