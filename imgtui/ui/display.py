"""Text from outside (a backend, a server, a file name) turned into display content.

Two rules hold where such a string becomes display text: its control and bidi characters are
shown as visible escapes (`imgtui.common.text.safe_text`), and it is never parsed as markup, so
a filename `[bold]x` or `[/]` shows as it is and cannot raise a MarkupError
(https://textual.textualize.io/guide/content/#markup). Static labels written in this code may
still use markup; a value from outside enters them only as a `$variable` of
`Content.from_markup`, which inserts it as literal text.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.content import Content

from imgtui.common.text import safe_text

__all__ = ["plain", "plain_text", "safe_text"]


def plain(text: object, *, multiline: bool = False) -> Content:
    """`text` as literal Textual content: controls escaped, no markup."""
    return Content(safe_text(text, multiline=multiline))


def plain_text(text: object, *, style: str | Style = "") -> Text:
    """`text` as a literal one-line Rich Text (for Rich tables and trees)."""
    return Text(safe_text(text), style=style)
