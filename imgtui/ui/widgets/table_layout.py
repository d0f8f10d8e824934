"""Column layout and cell text of the image list: pure functions, no Textual.

The config chooses the columns and their order; the id and filename columns share whatever
the fixed columns leave, ids whole (a UUID is 36 cells) before the filename grows. Narrow
lists drop the file columns first, then the creator, then the upload time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Literal, get_args

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
FILENAME_BESIDE_UUID = 16  # a filename this wide next to a whole UUID beats cutting both
FILENAME_BESIDE_FACTS = 20  # the size, pixels and type columns never squeeze it below this
GAP = 1

ELLIPSIS = "…"


ColumnName = Literal["id", "filename", "uploaded", "creator", "size", "dimensions", "format"]
COLUMN_NAMES: tuple[ColumnName, ...] = get_args(ColumnName)
# What the list shows unless the config says otherwise (`columns = [...]`, in that order).
DEFAULT_COLUMNS: tuple[ColumnName, ...] = COLUMN_NAMES
# Known only where the backend keeps the stored file (a local library), fetched per row.
FILE_COLUMNS: frozenset[ColumnName] = frozenset({"size", "dimensions", "format"})
TITLES: dict[ColumnName, str] = {
    "id": "ID",
    "filename": "FILENAME",
    "uploaded": "UPLOADED",
    "creator": "CREATOR",
    "size": "SIZE",
    "dimensions": "PIXELS",
    "format": "TYPE",
}
FIXED_WIDTHS: dict[ColumnName, int] = {"creator": CREATOR_WIDTH, "size": 9, "dimensions": 11, "format": 4}


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
    """The shown columns, in order, with their cell widths (a hidden column is absent)."""

    shown: tuple[tuple[ColumnName, int], ...]

    def width_of(self, name: ColumnName) -> int:
        return next((cells for shown, cells in self.shown if shown == name), 0)

    @property
    def id(self) -> int:
        return self.width_of("id")

    @property
    def filename(self) -> int:
        return self.width_of("filename")

    @property
    def uploaded(self) -> int:
        return self.width_of("uploaded")

    @property
    def creator(self) -> int:
        return self.width_of("creator")

    @property
    def has_file_columns(self) -> bool:
        return any(name in FILE_COLUMNS for name, _ in self.shown)

    @property
    def titles(self) -> list[tuple[str, int]]:
        return [(TITLES[name], cells) for name, cells in self.shown]


def parse_columns(names: Iterable[str]) -> tuple[ColumnName, ...]:
    """The config's column list, known names only, once each, in its order; id and filename
    are added when missing (a row needs something to tell it apart)."""
    chosen: list[ColumnName] = []
    for name in names:
        key = str(name).strip().lower()
        for known in COLUMN_NAMES:
            if key == known and known not in chosen:
                chosen.append(known)
    for needed in ("filename", "id"):
        if needed not in chosen:
            chosen.insert(0, needed)
    return tuple(chosen)


@lru_cache(maxsize=64)
def layout_columns(
    width: int, names: tuple[ColumnName, ...] = DEFAULT_COLUMNS, *, file_facts: bool = False
) -> Columns:
    """Widths for a list `width` cells wide (mark and lock columns included), the columns in
    the order of `names`. The file columns show only when the backend knows them
    (`file_facts`) and there is room; ids get up to a whole UUID, the filename the rest."""
    wanted = [name for name in names if file_facts or name not in FILE_COLUMNS]
    fixed: dict[ColumnName, int] = {name: FIXED_WIDTHS[name] for name in wanted if name in FIXED_WIDTHS}
    if "uploaded" in wanted:
        fixed["uploaded"] = UPLOADED_WIDTH
    frame = MARK_WIDTH + GAP + LOCK_WIDTH + GAP  # mark, the gap after filename/id, lock

    def flex_left() -> int:
        return width - frame - sum(cells + GAP for cells in fixed.values()) - GAP

    # File columns only where a whole id and a readable filename still fit beside them.
    for name in ("format", "dimensions", "size"):
        if name in fixed and flex_left() < ID_MAX + FILENAME_BESIDE_FACTS:
            del fixed[name]
    # Then the year of the upload time, the creator, the upload time: only as far as two
    # readable flexible columns need.
    if "uploaded" in fixed and flex_left() < 2 * FILENAME_WANTED:
        fixed["uploaded"] = UPLOADED_SHORT_WIDTH
    elif "uploaded" in fixed and flex_left() < ID_MAX + FILENAME_BESIDE_UUID <= flex_left() + (
        UPLOADED_WIDTH - UPLOADED_SHORT_WIDTH
    ):
        fixed["uploaded"] = UPLOADED_SHORT_WIDTH  # the year, for a whole id
    for name in ("creator", "uploaded"):
        if name in fixed and flex_left() < 2 * MIN_FLEX:
            del fixed[name]
    flex = max(flex_left(), 2)
    # Whole ids when they fit beside a readable filename; else the two share.
    if flex >= ID_MAX + FILENAME_BESIDE_UUID:
        id_width = ID_MAX
    else:
        id_width = max(min(ID_MAX, flex - min(FILENAME_WANTED, flex // 2)), 1)
    widths: dict[ColumnName, int] = {"id": id_width, "filename": flex - id_width, **fixed}
    return Columns(tuple((name, widths[name]) for name in wanted if name in widths))


def fit(text: str, width: int) -> str:
    """`text` padded or cut to exactly `width` cells, with an ellipsis when cut."""
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    return set_cell_size(text, width - 1) + ELLIPSIS


def fit_middle(text: str, width: int) -> str:
    """Like `fit`, but a long text loses its middle: an id keeps its start (a UUID's first
    digits) and its end (the file part of a path-like id, `products/…/red-sneaker.png`)."""
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    if width < 5:
        return fit(text, width)
    head = width // 2
    tail = width - 1 - head
    # The end, character by character from the right (a wide character counts two cells).
    end, cells = "", 0
    for char in reversed(text):
        if cells + cell_len(char) > tail:
            break
        end, cells = char + end, cells + cell_len(char)
    # A wide character that did not fit leaves a cell: the start takes it.
    return set_cell_size(text, width - 1 - cells) + ELLIPSIS + end


def fit_cell(name: ColumnName, text: str, width: int) -> str:
    """A cell's text at its width: ids cut in the middle (both ends tell ids apart), the
    other columns at the end."""
    return fit_middle(text, width) if name == "id" else fit(text, width)


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
