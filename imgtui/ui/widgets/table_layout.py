"""Column layout and cell text of the image list: pure functions, no Textual.

The id and filename columns share whatever the fixed columns leave; narrow terminals drop
the creator column first, then the upload time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rich.cells import cell_len, set_cell_size

from imgtui.common.text import safe_text

MARK_WIDTH = 2  # "● " or two spaces
LOCK_WIDTH = 2  # the signed-URL marker (an emoji is two cells wide)
UPLOADED_WIDTH = 16  # "2025-03-01 14:22"
UPLOADED_SHORT_WIDTH = 11  # "03-01 14:22": narrow terminals give the 5 cells to the id
CREATOR_WIDTH = 12
MIN_FLEX = 10  # narrowest id or filename column worth showing
ID_MAX = 36  # a UUID: beyond that the filename makes better use of the space
FILENAME_WANTED = 24  # most filenames fit; the id gets what is left, up to ID_MAX
GAP = 1

LOCK_GLYPH = "🔒"
MARK_GLYPH = "●"
ELLIPSIS = "…"


@dataclass(frozen=True, slots=True)
class Columns:
    """Cell widths of one layout; 0 means the column is hidden."""

    id: int
    filename: int
    uploaded: int
    creator: int

    @property
    def titles(self) -> list[tuple[str, int]]:
        return [
            ("ID", self.id),
            ("FILENAME", self.filename),
            ("UPLOADED", self.uploaded),
            ("CREATOR", self.creator),
        ]


def layout_columns(width: int) -> Columns:
    """Widths for a list `width` cells wide (mark and lock columns included)."""
    fixed = MARK_WIDTH + LOCK_WIDTH + GAP
    uploaded, creator = UPLOADED_WIDTH, CREATOR_WIDTH
    flex = width - fixed - (uploaded + GAP) - (creator + GAP) - GAP
    if flex < 2 * FILENAME_WANTED:
        uploaded = UPLOADED_SHORT_WIDTH
        flex += UPLOADED_WIDTH - UPLOADED_SHORT_WIDTH
    if flex < 2 * MIN_FLEX:
        creator = 0
        flex += CREATOR_WIDTH + GAP
    if flex < 2 * MIN_FLEX:
        flex += uploaded + GAP
        uploaded = 0
    flex = max(flex, 2)
    id_width = max(min(ID_MAX, flex - min(FILENAME_WANTED, flex // 2)), 1)
    return Columns(id=id_width, filename=flex - id_width, uploaded=uploaded, creator=creator)


def fit(text: str, width: int) -> str:
    """`text` padded or cut to exactly `width` cells, with an ellipsis when cut."""
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    return set_cell_size(text, width - 1) + ELLIPSIS


def clean(text: str | None) -> str:
    """One line of printable text: controls and bidi characters shown as escapes (`\\x1b`,
    `\\u202e`); any other unprintable character (a zero-width format mark) as `�`, so the
    row keeps its width. Cheap for the usual clean name: one `isprintable` pass."""
    if not text:
        return ""
    if text.isprintable():
        return text
    shown = safe_text(text)
    if shown.isprintable():
        return shown
    return "".join(ch if ch.isprintable() else "�" for ch in shown)


def format_uploaded(value: datetime, width: int = UPLOADED_WIDTH) -> str:
    """Local time to the minute: what a person scanning a list compares (no year when narrow)."""
    return value.astimezone().strftime("%Y-%m-%d %H:%M" if width >= UPLOADED_WIDTH else "%m-%d %H:%M")
