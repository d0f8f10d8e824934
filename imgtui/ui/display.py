"""Text from outside (a backend, a server, a file name) turned into display content.

Two rules hold where such a string becomes display text: its control and bidi characters are
shown as visible escapes (`imgtui.common.text.safe_text`), and it is never parsed as markup, so
a filename `[bold]x` or `[/]` shows as it is and cannot raise a MarkupError
(https://textual.textualize.io/guide/content/#markup). Static labels written in this code may
still use markup; a value from outside enters them only as a `$variable` of
`Content.from_markup`, which inserts it as literal text.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.content import Content

from imgtui.common.text import safe_text

__all__ = ["middle_cut", "plain", "plain_text", "safe_text"]


def plain(text: object, *, multiline: bool = False) -> Content:
    """`text` as literal Textual content: controls escaped, no markup."""
    return Content(safe_text(text, multiline=multiline))


def plain_text(text: object, *, style: str | Style = "") -> Text:
    """`text` as a literal one-line Rich Text (for Rich tables and trees)."""
    return Text(safe_text(text), style=style)


def middle_cut(text: str, width: int) -> str:
    """`text` in at most `width` cells, cut in the middle (`https://ex…/cat-2.png`): the start
    says where it is from, the end tells apart names that share a start (URLs, numbered files)."""
    if cell_len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    keep = width - 1  # one cell for the ellipsis
    tail_cells = (keep + 1) // 2  # the end gets the odd cell: it tells names apart
    head_cells = keep - tail_cells
    head = ""
    for char in text:
        if cell_len(head + char) > head_cells:
            break
        head += char
    tail = ""
    for char in reversed(text):
        if cell_len(char + tail) > tail_cells:
            break
        tail = char + tail
    return f"{head}…{tail}"
