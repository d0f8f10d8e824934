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
LOCK_WIDTH = 2  # the signed-URL marker: "◆" is one cell, the 🔒 emoji two
UPLOADED_WIDTH = 16  # "2025-03-01 14:22"
UPLOADED_SHORT_WIDTH = 11  # "03-01 14:22": narrow terminals give the 5 cells to the id
CREATOR_WIDTH = 12
MIN_FLEX = 10  # narrowest id or filename column worth showing
ID_MAX = 36  # a UUID: beyond that the filename makes better use of the space
FILENAME_WANTED = 24  # most filenames fit; the id gets what is left, up to ID_MAX
GAP = 1

ELLIPSIS = "…"


@dataclass(frozen=True, slots=True)
class Glyphs:
    """The state markers of a row: signed URLs required (lock), marked for a bulk action."""

    lock: str
    mark: str


# Every terminal font has these (WGL4 geometric shapes: DejaVu, Liberation, Consolas, Menlo);
# without an emoji font 🔒 is an empty box (issue 15).
PLAIN_GLYPHS = Glyphs(lock="◆", mark="●")
EMOJI_GLYPHS = Glyphs(lock="🔒", mark="●")

# The set in use. Read these at render time (`table_layout.LOCK_GLYPH`), not at import:
# `use_emoji_glyphs()` rebinds them.
LOCK_GLYPH = PLAIN_GLYPHS.lock
MARK_GLYPH = PLAIN_GLYPHS.mark


def use_emoji_glyphs(enabled: bool) -> None:
    """Choose the emoji markers (a setting) or the plain ones (the default). Both fit the
    fixed columns: LOCK_WIDTH and MARK_WIDTH hold the widest of each."""
    global LOCK_GLYPH, MARK_GLYPH
    chosen = EMOJI_GLYPHS if enabled else PLAIN_GLYPHS
    LOCK_GLYPH, MARK_GLYPH = chosen.lock, chosen.mark


def glyphs() -> Glyphs:
    return Glyphs(lock=LOCK_GLYPH, mark=MARK_GLYPH)


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
