"""Text from outside (a backend, a server, a file name) made safe to show in a terminal.

A terminal obeys what it is sent: ESC and the other C0/C1 controls change its title, leave the
alternate screen or clear it, and the bidirectional controls reorder what follows
(`evil\\u202egnp.exe` shows as `evilexe.png`). Every such character is shown as a visible escape
instead (`\\x1b`, `\\u202e`), at the one point where a string becomes display text.

- Terminal controls: https://invisible-island.net/xterm/ctlseqs/ctlseqs.html
- Bidi controls ("Trojan Source"): https://www.unicode.org/reports/tr9/#Directional_Formatting_Characters
"""

from __future__ import annotations

import re

# C0 controls, DEL, C1 controls; the Arabic letter mark, LRM/RLM; line and paragraph separators;
# the bidi embeddings, overrides and isolates. The same set as imgtui.service.rules's
# UNSAFE_CHARACTERS (what the service refuses in names): common imports nothing from imgtui,
# so it is spelled out twice and tests/service/test_unsafe_text.py asserts both agree.
UNSAFE_CHARACTERS = "\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_UNSAFE = re.compile(f"[{UNSAFE_CHARACTERS}]")
_UNSAFE_BUT_NEWLINE = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def safe_text(text: object, *, multiline: bool = False) -> str:
    """`text` as a string with every control and bidi character shown as an escape.

    `multiline` keeps line feeds (for a multi-line message); everything else is escaped.
    Fast for the common case: a clean string is returned as it is.
    """
    value = text if isinstance(text, str) else str(text)
    pattern = _UNSAFE_BUT_NEWLINE if multiline else _UNSAFE
    if pattern.search(value) is None:
        return value
    return pattern.sub(_escape, value)


def has_unsafe_characters(text: str) -> bool:
    """Whether `text` holds a control or bidi character (what the service refuses in names)."""
    return _UNSAFE.search(text) is not None
