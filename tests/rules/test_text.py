"""People's text quoted in messages: non-printable characters escaped, the rest as typed."""

from __future__ import annotations

import pytest

from ccmdesk.rules.text import shown


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ann O'Neil", "Ann O'Neil"),
        ("Núñez 日本 Ωmega", "Núñez 日本 Ωmega"),  # letters of any script stay as they are
        ("a\nb\r\nc\td", "a\\nb\\r\\nc\\td"),
        ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),  # a terminal escape
        ("\x00\x07\x7f", "\\x00\\x07\\x7f"),
        ("abc\u202edef\u2066", "abc\\u202edef\\u2066"),  # bidi override and isolate
        ("line\u2028sep\u2029par", "line\\u2028sep\\u2029par"),
        ("zero\u200bwidth\ufeff", "zero\\u200bwidth\\ufeff"),
        ("\U000e0041tag", "\\U000e0041tag"),
    ],
)
def test_non_printable_characters_are_written_as_escapes(text: str, expected: str) -> None:
    assert shown(text) == expected
    assert shown(expected) == expected  # escaping twice changes nothing
