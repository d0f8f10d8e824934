from __future__ import annotations

import pytest

from imgtui.common.text import has_unsafe_characters, safe_text

HOSTILE = [
    ("\x1b]2;PWNED\x07", "\\x1b]2;PWNED\\x07"),
    ("\x1b[2J\x1b[?1049l", "\\x1b[2J\\x1b[?1049l"),
    ("evil\u202egnp.exe", "evil\\u202egnp.exe"),
    ("a\u2066b\u2069c", "a\\u2066b\\u2069c"),
    ("\x9b31m", "\\x9b31m"),  # the 8-bit CSI
    ("del\x7f", "del\\x7f"),
    ("line\nbreak\ttab\r", "line\\nbreak\\ttab\\r"),
    ("nul\x00", "nul\\x00"),
    ("sep\u2028", "sep\\u2028"),
]


@pytest.mark.parametrize(("hostile", "shown"), HOSTILE)
def test_controls_and_bidi_become_visible_escapes(hostile: str, shown: str) -> None:
    assert safe_text(hostile) == shown
    assert not has_unsafe_characters(safe_text(hostile))


def test_clean_text_is_returned_as_it_is() -> None:
    text = "café 東京 🐈 photo-01.png"
    assert safe_text(text) is text
    assert not has_unsafe_characters(text)


def test_multiline_keeps_line_feeds_only() -> None:
    assert safe_text("one\ntwo\x1b[1m", multiline=True) == "one\ntwo\\x1b[1m"


def test_non_strings_are_shown_too() -> None:
    assert safe_text(42) == "42"
    assert safe_text(ValueError("bad\x1b")) == "bad\\x1b"
