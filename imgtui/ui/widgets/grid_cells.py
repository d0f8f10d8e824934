"""The grid's cells: a pool of widgets the grid re-points at new images (`point`) and paints
results into (`paint`). `TextCell` draws itself line by line (half-cell and unicode pictures
as Strips, or none), so re-pointing or painting it is a repaint of its own region, never a
layout of the screen; `PictureCell` holds a textual-image widget for the graphics protocols
(TGP, Sixel), the only way to place those pictures."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Protocol

from PIL import Image as PILImage
from rich.cells import cell_len
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.app import ComposeResult
from textual.containers import Container
from textual.content import Content
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static

from imgtui.common.text import safe_text
from imgtui.ui.preview.geometry import fit_cells
from imgtui.ui.preview.terminal import PreviewMode, cell_size, widget_class
from imgtui.ui.widgets import table_layout
from imgtui.ui.widgets.grid_geometry import CAPTION_ROWS, CELL_BORDER
from imgtui.ui.widgets.halfcell import halfcell_strips
from imgtui.ui.widgets.table_layout import clean, fit, fit_middle
from imgtui.workflows.catalogue_rows import CatalogueRow
from imgtui.workflows.image_decode import flatten_alpha

if TYPE_CHECKING:
    from textual_image.widget._base import Image as ImageWidget

__all__ = [
    "GridCell",
    "PictureCell",
    "TextCell",
    "ThumbnailResultLike",
    "caption",
    "caption_parts",
    "is_transient",
    "render_picture",
]

LOADING_GLYPH = "…"
NO_PICTURE = "no preview"
PROBLEM_CHARS = 120  # a cell shows at most this much of why it has no picture


class ThumbnailResultLike(Protocol):
    """What `Thumbnails.get` answers (workflows/thumbnails.py `ThumbnailResult`)."""

    @property
    def image(self) -> PILImage.Image | None: ...
    @property
    def problem(self) -> str | None: ...
    @property
    def source(self) -> str: ...


def is_transient(problem: str) -> bool:
    """A failure worth retrying (`r`): the backend did not answer. "SVG", "corrupt",
    "missing", "too large" are facts about the image, not failures."""
    return problem.startswith(("error ", "failed", "Thumbnail failed"))


def caption_parts(row: CatalogueRow, width: int, *, marked: bool) -> tuple[str, str, str]:
    """`● `, the filename (else the id) cut in the middle and escaped, `◆` for signed URLs."""
    glyphs = table_layout.glyphs()
    lock = fit(glyphs.lock, table_layout.LOCK_WIDTH) if row.signed else ""
    name_width = max(0, width - 2 - (table_layout.LOCK_WIDTH if row.signed else 0))
    name = fit_middle(clean(row.filename) or clean(row.id), name_width)
    return ((glyphs.mark + " ") if marked else "  "), name, lock


def caption(row: CatalogueRow, width: int, *, marked: bool) -> Content:
    """`● name ◆`: the mark, the filename (else the id) cut in the middle, the lock."""
    mark, name, lock = caption_parts(row, width, marked=marked)
    return Content.from_markup(
        "[$text-warning][b]$mark[/b][/]$name[$text-warning]$lock[/]", mark=mark, name=name, lock=lock
    )


class GridCell(Widget):
    """One cell of the pool: a picture (or why there is none) over a caption line.

    The grid re-points cells (`point`) and paints results into them (`paint`); how a cell
    draws is its subclass's: `TextCell` for the text renderers (and no pictures), `PictureCell`
    for the graphics protocols."""

    def __init__(self, slot: int, mode: PreviewMode) -> None:
        super().__init__()
        self.slot = slot  # position in the pool: row-major on screen
        self.mode = mode
        self.index = -1  # the list index shown (-1: none)
        self.image_id: str | None = None
        self.box: tuple[int, int] | None = None  # the pixel box its picture is wanted at
        # empty | row-loading | loading | picture | problem (retry with r) | verdict (SVG…) | off
        self.state = "empty"
        self.problem = ""
        self.is_cursor = False
        self.marked = False
        self.focused_grid = False
        self.planned_width = 0  # the grid's cell width, for a caption cut before the first layout
        self._row: CatalogueRow | None = None
        self.message = ""  # what the cell says instead of a picture
        self.caption_text = ""

    @property
    def picture_id(self) -> tuple[str | None, int | None]:
        """Which picture the cell shows: the id and its upload time (a re-upload under the same
        id is another picture, so cached Strips of the old one never stand in for it)."""
        row = self._row
        return self.image_id, (row.uploaded if row is not None else None)

    # -- pointing ---------------------------------------------------------------------

    def point(self, index: int, row: CatalogueRow | None, *, cursor: bool, marked: bool) -> bool:
        """Show list index `index` (row None: not read yet). True when the image changed:
        the caller then asks for its picture."""
        self.set_marks(cursor=cursor and index >= 0, marked=marked and index >= 0)
        if (index < 0) != (self.index < 0):
            self.index = index
            self._restyle()  # into or out of the empty look
        if index < 0:
            if self.state != "empty":
                self.index, self._row, self.image_id, self.state = -1, None, None, "empty"
                self._set_caption("")
                self._set_message("")
            return False
        self.index = index
        if row is None:
            if self.state != "row-loading":
                self.image_id, self._row, self.state = None, None, "row-loading"
                self._set_caption(LOADING_GLYPH)
                self._set_message(LOADING_GLYPH)
            return False
        # A re-upload under the same id is a new picture (its upload time changed).
        changed = row.id != self.image_id or (self._row is not None and row.uploaded != self._row.uploaded)
        if changed or row != self._row:
            self._row = row
            self.recaption()
        if changed:
            self.image_id = row.id
            self.box = None
            if self.mode == "off":
                self.state = "off"
                self._set_message(NO_PICTURE)
            else:
                self.state = "loading"
                self._set_message(LOADING_GLYPH)
        return changed and self.mode != "off"

    def set_marks(self, *, cursor: bool, marked: bool) -> None:
        if (cursor, marked) != (self.is_cursor, self.marked):
            marked_before = self.marked
            self.is_cursor, self.marked = cursor, marked
            if marked != marked_before:
                self.recaption()
            self._restyle()

    def set_grid_focus(self, focused: bool) -> None:
        if focused != self.focused_grid:
            self.focused_grid = focused
            if self.is_cursor:
                self._restyle()

    def recaption(self) -> None:
        if self._row is not None:
            self._set_caption(caption_parts(self._row, self._caption_width(), marked=self.marked))

    def _caption_width(self) -> int:
        return max(1, (self.size.width or self.planned_width) - 2)

    def on_resize(self, event: events.Resize) -> None:
        self.recaption()  # the name is cut to the new width

    # -- pictures ---------------------------------------------------------------------

    def paint(self, result: ThumbnailResultLike, area: tuple[int, int]) -> None:
        if result.image is None:
            self.problem = result.problem or "no picture"
            transient = is_transient(self.problem)
            self.state = "problem" if transient else "verdict"
            self._set_message(f"⚠ {self.problem}" if transient else f"({self.problem})", problem=transient)
            return
        self.state = "picture"
        self.problem = ""
        self._set_picture(self._flattened(result.image), area)

    def show_loading(self) -> None:
        self.state = "loading"
        self._set_message(LOADING_GLYPH)

    def _flattened(self, image: PILImage.Image) -> PILImage.Image:
        """Text renderers draw alpha as black: flatten onto this widget's own background."""
        if self.mode not in ("halfcell", "unicode"):
            return image
        return flatten_alpha(image, self.background_colors[1].rgb)

    @property
    def shown_text(self) -> str:
        """What the cell says instead of a picture (tests read it)."""
        return self.message

    # -- drawing (the subclass's) -------------------------------------------------------

    def _set_caption(self, parts: tuple[str, str, str] | str) -> None:
        self.caption_text = parts if isinstance(parts, str) else "".join(parts)

    def _set_message(self, text: str, *, problem: bool = False) -> None:
        self.message = safe_text(text[:PROBLEM_CHARS] + ("…" if len(text) > PROBLEM_CHARS else ""))

    def _set_picture(self, image: PILImage.Image, area: tuple[int, int]) -> None:
        self.message = ""

    def _restyle(self) -> None:
        pass


# The text cells' colours: component classes of the grid that holds them (ThumbnailGrid),
# not of each cell. A component class is styled again with its widget on every restyle, and
# focusing the grid restyles all its cells: 20 cells of 8 classes each was ~25 ms of the first
# grid screen; on the grid they are resolved once.
CELL_COMPONENT_CLASSES: frozenset[str] = frozenset(
    {
        "grid-cell--frame",
        "grid-cell--cursor",
        "grid-cell--cursor-focused",
        "grid-cell--marked",
        "grid-cell--mark",
        "grid-cell--lock",
        "grid-cell--message",
        "grid-cell--problem",
    }
)
CELL_COMPONENT_CSS = """
    & > .grid-cell--frame { color: $panel-lighten-2; }
    & > .grid-cell--cursor { color: $foreground-muted; }
    & > .grid-cell--cursor-focused { color: $primary-lighten-2; text-style: bold; }
    & > .grid-cell--marked { color: $warning; }
    & > .grid-cell--mark { color: $text-warning; text-style: bold; }
    & > .grid-cell--lock { color: $text-warning; }
    & > .grid-cell--message { color: $text-muted; }
    & > .grid-cell--problem { color: $text-error; }
"""


class TextCell(GridCell):
    """A cell drawn line by line (half-cell and unicode pictures, or none): its frame, picture
    and caption are Strips it renders itself, so re-pointing it, moving the cursor over it or
    painting its picture is a repaint of its own region, never a layout of the screen (a
    layout costs ~60 ms on a 160x45 screen: holding pgdn would stall on every page). Its
    colours are its parent's component classes (CELL_COMPONENT_CLASSES)."""

    DEFAULT_CSS = """
    TextCell {
        width: 1fr;
        height: 1fr;
    }
    """

    def __init__(self, slot: int, mode: PreviewMode) -> None:
        super().__init__(slot, mode)
        self._caption: tuple[str, str, str] = ("", "", "")  # mark, name, lock
        self._problem = False
        self._picture: list[Strip] = []
        self._shown: tuple[PILImage.Image, tuple[int, int], tuple[int, int]] | None = (
            None  # image, area, size
        )
        self._styles: dict[str, Style] = {}
        self._lines: dict[tuple[int, int, int], Strip] = {}  # until the cell changes
        self.picture_at = 0.0  # when a picture was set, and when the cell was last drawn:
        self.drawn_at = 0.0  # the benchmark's "on screen" is drawn after set

    def _changed(self) -> None:
        self._lines.clear()
        self.refresh()

    def _set_caption(self, parts: tuple[str, str, str] | str) -> None:
        super()._set_caption(parts)
        self._caption = ("", parts, "") if isinstance(parts, str) else parts
        self._changed()

    def _set_message(self, text: str, *, problem: bool = False) -> None:
        super()._set_message(text, problem=problem)
        self._problem = problem
        self._picture = []
        self._shown = None
        self._changed()

    def picture_size(self, image: PILImage.Image, area: tuple[int, int]) -> tuple[int, int]:
        """Columns x rows the picture takes in this cell (aspect kept, never upscaled)."""
        return fit_cells(image.size, self._stage_size() or area, cell_size(), self.mode)

    def _set_picture(self, image: PILImage.Image, area: tuple[int, int]) -> None:
        super()._set_picture(image, area)
        width, height = self.picture_size(image, area)
        cache = getattr(self.parent, "strip_cache", None)
        key = (self.picture_id, self.box, (width, height))
        strips = cache.get(key) if cache is not None else None
        if strips is None:  # not rendered ahead (small half-cell pictures never are: cheap)
            strips = render_picture(self.app.console, image, self.mode, width, height)
            if cache is not None:
                cache[key] = strips  # paging back repaints at once
        self._picture = strips
        self._shown = (image, area, (width, height))
        self.picture_at = time.perf_counter()
        self._changed()

    def _restyle(self) -> None:
        self._changed()

    def _stage_size(self) -> tuple[int, int] | None:
        width, height = self.size
        inner = (width - CELL_BORDER, height - CELL_BORDER - CAPTION_ROWS)
        return inner if inner[0] > 0 and inner[1] > 0 else None

    def _style(self, name: str) -> Style:
        """The base style plus a component's (from the grid), computed once per theme
        (`rich_style` walks the DOM: per line it was half of what a repaint of the grid cost)."""
        styles = self._styles
        if not styles:
            base = self.rich_style
            styles[""] = base
            owner = self.parent
            if isinstance(owner, Widget) and CELL_COMPONENT_CLASSES <= owner.COMPONENT_CLASSES:
                for component in CELL_COMPONENT_CLASSES:
                    styles[component] = base + owner.get_component_rich_style(component, partial=True)
        return styles.get(name, styles[""])

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._lines.clear()

    def on_resize(self, event: events.Resize) -> None:
        self._lines.clear()
        super().on_resize(event)
        shown = self._shown
        if shown is not None and self.picture_size(shown[0], shown[1]) != shown[2]:
            # Painted before its first layout (at the grid's planned size): fitted to the cell now.
            self._set_picture(*shown[:2])

    def _frame_style(self) -> Style:
        if self.is_cursor:
            return self._style("grid-cell--cursor-focused" if self.focused_grid else "grid-cell--cursor")
        return self._style("grid-cell--marked" if self.marked else "grid-cell--frame")

    def render_line(self, y: int) -> Strip:
        width, height = self.size
        if y == height - 1:
            self.drawn_at = time.perf_counter()
        key = (y, width, height)
        line = self._lines.get(key)
        if line is None:
            line = self._lines[key] = self._render_line(y, width, height)
        return line

    def _render_line(self, y: int, width: int, height: int) -> Strip:
        if width <= 0:
            return Strip.blank(0)
        base = self._style("")
        if self.index < 0:
            return Strip.blank(width, base)
        frame = self._frame_style()
        heavy = self.is_cursor and self.focused_grid
        glyphs = "┏━┓┃┗┛" if heavy else "╭─╮│╰╯"
        inner = max(0, width - 2)
        if y == 0:
            return Strip([Segment(glyphs[0] + glyphs[1] * inner + glyphs[2], frame)], width)
        if y == height - 1:
            return Strip([Segment(glyphs[4] + glyphs[1] * inner + glyphs[5], frame)], width)
        fill = base
        side = Segment(glyphs[3], frame)
        if y == height - 2:
            body = self._caption_strip(inner, fill)
        else:
            body = self._stage_strip(y - 1, inner, max(0, height - 3), fill)
        return Strip([side, *body, side], width)

    def _caption_strip(self, inner: int, fill: Style) -> list[Segment]:
        mark, name, lock = self._caption
        name_style = self._style("grid-cell--marked") if self.marked else fill
        segments = [
            Segment(mark, self._style("grid-cell--mark")),
            Segment(name, name_style),
            Segment(lock, self._style("grid-cell--lock")),
        ]
        used = cell_len(mark) + cell_len(name) + cell_len(lock)
        if used < inner:
            segments.append(Segment(" " * (inner - used), fill))
        return segments if used <= inner else list(Strip(segments).crop(0, inner))

    def _stage_strip(self, row: int, inner: int, rows: int, fill: Style) -> list[Segment]:
        picture = self._picture
        if picture:
            top = (rows - len(picture)) // 2
            line = row - top
            if 0 <= line < len(picture):
                strip = picture[line]
                left = max(0, (inner - strip.cell_length) // 2)
                right = max(0, inner - left - strip.cell_length)
                return [Segment(" " * left, fill), *strip, Segment(" " * right, fill)][: inner + 2]
            return [Segment(" " * inner, fill)]
        text = self.message
        if text and row == rows // 2:
            style = self._style("grid-cell--problem" if self._problem else "grid-cell--message")
            shown = fit_middle(text, inner) if cell_len(text) > inner else text
            left = (inner - cell_len(shown)) // 2
            return [
                Segment(" " * left, fill),
                Segment(shown, style),
                Segment(" " * (inner - left - cell_len(shown)), fill),
            ]
        return [Segment(" " * inner, fill)]


def render_picture(
    console: Console, image: PILImage.Image, mode: PreviewMode, width: int, height: int
) -> list[Strip]:
    """textual-image's own renderable for `mode` (half-cell or unicode), rendered once to
    Strips of `width` x `height` cells (its widget would render it again on every repaint).
    Pure Python on its inputs: the grid runs it in a thread. Half-cell pictures are made by
    `halfcell_strips` (the same pixels, far fewer objects)."""
    if mode == "halfcell":
        return halfcell_strips(image, width, height)
    renderable_class = _renderable_class(mode)
    options = console.options.update_dimensions(width, height)
    lines = console.render_lines(renderable_class(image, width, height), options, pad=False)
    return [Strip(line).crop(0, width) for line in lines[:height]]


def _renderable_class(mode: PreviewMode):
    import importlib

    name = "unicode" if mode == "unicode" else "halfcell"
    return importlib.import_module(f"textual_image.renderable.{name}").Image


class PictureCell(GridCell):
    """A cell for the graphics protocols (TGP, Sixel): the picture is a textual-image widget
    (Sixel's in-place one), since only it can place those pictures on the screen."""

    DEFAULT_CSS = """
    PictureCell {
        width: 1fr;
        height: 1fr;
        border: round $panel-lighten-1;
        layout: vertical;
    }
    PictureCell.-cursor { border: round $foreground-muted; }
    PictureCell.-marked { border: round $warning; }
    PictureCell.-empty { border: none; }
    PictureCell > .cell--stage { width: 1fr; height: 1fr; align: center middle; }
    PictureCell .cell--message { width: auto; max-width: 100%; height: auto; color: $text-muted; }
    PictureCell .cell--message.-problem { color: $text-error; }
    PictureCell > .cell--caption { width: 1fr; height: 1; }
    PictureCell.-marked > .cell--caption { color: $text-warning; }
    """

    def __init__(self, slot: int, mode: PreviewMode) -> None:
        super().__init__(slot, mode)
        self.add_class("-empty")
        self._fitted: tuple[int, int] | None = None
        self._stage = Container(classes="cell--stage")
        self._message = Static("", markup=False, classes="cell--message")
        self._caption = Static("", markup=False, classes="cell--caption")
        self._picture: ImageWidget = widget_class(mode)(None)

    def compose(self) -> ComposeResult:
        with self._stage:
            yield self._picture
            yield self._message
        yield self._caption

    def on_mount(self) -> None:
        self._picture.display = False

    def _caption_width(self) -> int:
        width = self._caption.content_size.width
        return width if width > 0 else super()._caption_width()

    def _set_caption(self, parts: tuple[str, str, str] | str) -> None:
        super()._set_caption(parts)
        if isinstance(parts, str):
            self._caption.update(parts, layout=False)
        else:
            mark, name, lock = parts
            markup = "[$text-warning][b]$mark[/b][/]$name[$text-warning]$lock[/]"
            self._caption.update(Content.from_markup(markup, mark=mark, name=name, lock=lock), layout=False)

    def _set_message(self, text: str, *, problem: bool = False) -> None:
        super()._set_message(text, problem=problem)
        if self._picture.display:
            self._picture.display = False
            self._picture.image = None
        self._message.update(self.message, layout=False)
        self._message.set_class(problem, "-problem")
        self._message.display = bool(text)

    def _set_picture(self, image: PILImage.Image, area: tuple[int, int]) -> None:
        super()._set_picture(image, area)
        fitted = fit_cells(image.size, area, cell_size(), self.mode)
        if fitted != self._fitted:
            self._fitted = fitted
            self._picture.styles.width, self._picture.styles.height = fitted
        self._message.display = False
        self._picture.image = image
        self._picture.display = True

    def _restyle(self) -> None:
        self.set_class(self.is_cursor, "-cursor")
        self.set_class(self.marked, "-marked")
        self.set_class(self.index < 0, "-empty")
