"""The thumbnail grid: the list's rows as cells of pictures, over the same model.

The grid is a second view of the ImageTable's `CatalogueRows` (the same instance): the
cursor, the marks, the search and the sort are the list's, so switching views keeps all of
them. Every cursor move goes through `ImageTable.move_cursor`, so the details panel follows
the grid exactly as it follows the list.

A fixed pool of `GridCell` widgets (as many as fit) is re-pointed at new images on every
scroll: nothing is mounted or unmounted per page, which is what makes pgdn cheap. Pictures
come from a `ThumbnailSource` (workflows/thumbnails.py): a synchronous memory `peek`, else an
async `get` with a priority (the cursor's neighbours first, then one screen ahead). A fetch
whose image scrolled out of the wanted set is cancelled, and a result is painted only into
the cell that still shows that image at that size: never late into the wrong cell.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, ClassVar, Protocol

from PIL import Image as PILImage
from rich.cells import cell_len
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.containers import Container
from textual.content import Content
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from imgtui.common.text import safe_text
from imgtui.service import ImageMetadata
from imgtui.ui.preview.geometry import decode_box, fit_cells
from imgtui.ui.preview.terminal import PreviewMode, cell_size, widget_class
from imgtui.ui.widgets import table_layout
from imgtui.ui.widgets.grid_geometry import (
    CAPTION_ROWS,
    CELL_BORDER,
    Shape,
    grid_shape,
    last_top_row,
    moved,
    top_row_for,
    wanted,
)
from imgtui.ui.widgets.halfcell import halfcell_strips
from imgtui.ui.widgets.table_layout import clean, fit, fit_middle
from imgtui.ui.worker_errors import WorkerFailed, describe_failure
from imgtui.workflows.catalogue_rows import CatalogueRow, to_metadata

if TYPE_CHECKING:
    from textual_image.widget._base import Image as ImageWidget

    from imgtui.ui.widgets.image_table import ImageTable

__all__ = ["GridCell", "PictureCell", "TextCell", "ThumbnailGrid", "ThumbnailResultLike", "ThumbnailSource"]

LOADING_GLYPH = "…"
NO_PICTURE = "no preview"
STRIP_CACHE_PICTURES = 120  # ~3 screens: each picture is ~500 small objects, all walked by every full GC
PROBLEM_CHARS = 120  # a cell shows at most this much of why it has no picture


class ThumbnailResultLike(Protocol):
    """What `Thumbnails.get` answers (workflows/thumbnails.py `ThumbnailResult`)."""

    @property
    def image(self) -> PILImage.Image | None: ...
    @property
    def problem(self) -> str | None: ...
    @property
    def source(self) -> str: ...


class ThumbnailSource(Protocol):
    """The thumbnail source the grid reads (workflows/thumbnails.py `Thumbnails`)."""

    @property
    def source_label(self) -> str: ...

    def peek(self, image: ImageMetadata, box: tuple[int, int]) -> ThumbnailResultLike | None: ...

    async def get(
        self, image: ImageMetadata, box: tuple[int, int], *, priority: int = 0
    ) -> ThumbnailResultLike: ...


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
        self._row: CatalogueRow | None = None
        self.message = ""  # what the cell says instead of a picture
        self.caption_text = ""

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
        return max(1, self.size.width - 2)

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
        """Text renderers draw alpha as black: flatten onto the cell's own background."""
        if image.mode != "RGBA" or self.mode not in ("halfcell", "unicode"):
            return image
        flat = PILImage.new("RGB", image.size, self.background_colors[1].rgb)
        flat.paste(image, mask=image.getchannel("A"))
        return flat

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


class TextCell(GridCell):
    """A cell drawn line by line (half-cell and unicode pictures, or none): its frame, picture
    and caption are Strips it renders itself, so re-pointing it, moving the cursor over it or
    painting its picture is a repaint of its own region, never a layout of the screen (a
    layout costs ~60 ms on a 160x45 screen: holding pgdn would stall on every page)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "grid-cell--frame",
        "grid-cell--cursor",
        "grid-cell--cursor-focused",
        "grid-cell--marked",
        "grid-cell--mark",
        "grid-cell--lock",
        "grid-cell--message",
        "grid-cell--problem",
    }

    DEFAULT_CSS = """
    TextCell {
        width: 1fr;
        height: 1fr;
        & > .grid-cell--frame { color: $panel-lighten-2; }
        & > .grid-cell--cursor { color: $foreground-muted; }
        & > .grid-cell--cursor-focused { color: $primary-lighten-2; text-style: bold; }
        & > .grid-cell--marked { color: $warning; }
        & > .grid-cell--mark { color: $text-warning; text-style: bold; }
        & > .grid-cell--lock { color: $text-warning; }
        & > .grid-cell--message { color: $text-muted; }
        & > .grid-cell--problem { color: $text-error; }
    }
    """

    def __init__(self, slot: int, mode: PreviewMode) -> None:
        super().__init__(slot, mode)
        self._caption: tuple[str, str, str] = ("", "", "")  # mark, name, lock
        self._problem = False
        self._picture: list[Strip] = []
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
        self._changed()

    def picture_size(self, image: PILImage.Image, area: tuple[int, int]) -> tuple[int, int]:
        """Columns x rows the picture takes in this cell (aspect kept, never upscaled)."""
        return fit_cells(image.size, self._stage_size() or area, cell_size(), self.mode)

    def _set_picture(self, image: PILImage.Image, area: tuple[int, int]) -> None:
        super()._set_picture(image, area)
        width, height = self.picture_size(image, area)
        cache = getattr(self.parent, "strip_cache", None)
        key = (self.image_id, self.box, (width, height))
        strips = cache.get(key) if cache is not None else None
        if strips is None:  # not rendered ahead (the grid renders in a thread when it can)
            strips = render_picture(self.app.console, image, self.mode, width, height)
        self._picture = strips
        self.picture_at = time.perf_counter()
        self._changed()

    def _restyle(self) -> None:
        self._changed()

    def _stage_size(self) -> tuple[int, int] | None:
        width, height = self.size
        inner = (width - CELL_BORDER, height - CELL_BORDER - CAPTION_ROWS)
        return inner if inner[0] > 0 and inner[1] > 0 else None

    def _style(self, name: str) -> Style:
        """The base style plus a component's, computed once per theme (`rich_style` walks the
        DOM: per line it was half of what a repaint of the grid cost)."""
        styles = self._styles
        if not styles:
            base = self.rich_style
            styles[""] = base
            for component in self.COMPONENT_CLASSES:
                styles[component] = base + self.get_component_rich_style(component, partial=True)
        return styles[name]

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._lines.clear()

    def on_resize(self, event: events.Resize) -> None:
        self._lines.clear()
        super().on_resize(event)

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


class ThumbnailGrid(Widget, can_focus=True):
    """The view's images as a grid of thumbnails; keys move in two dimensions."""

    BINDING_GROUP_TITLE = "Thumbnail grid"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "move('up')", "Up", show=False, id="list.up", tooltip="The image above"),
        Binding("down,j", "move('down')", "Down", show=False, id="list.down", tooltip="The image below"),
        Binding("left,h", "move('left')", "Left", show=False, id="list.left", tooltip="Previous image"),
        Binding("right,l", "move('right')", "Right", show=False, id="list.right", tooltip="Next image"),
        Binding(
            "pageup", "move('page_up')", "Page up", show=False, id="list.page_up", tooltip="One screen up"
        ),
        Binding(
            "pagedown",
            "move('page_down')",
            "Page down",
            show=False,
            id="list.page_down",
            tooltip="One screen down",
        ),
        Binding("home,g", "move('first')", "First", show=False, id="list.first", tooltip="First image"),
        Binding("end,G", "move('last')", "Last", show=False, id="list.last", tooltip="Last image"),
        Binding("enter", "select", "Actions", show=False, id="list.select", tooltip="Actions for this image"),
        Binding("space", "toggle_mark", "Mark", id="mark.toggle", tooltip="Mark or unmark the image"),
        Binding(
            "asterisk,ctrl+a",
            "mark_all",
            "Mark all",
            show=False,
            id="mark.all",
            tooltip="Mark every listed image (up to 10,000)",
        ),
        Binding("n", "next_match", "Next match", show=False, id="find.next", tooltip="Next search match"),
        Binding(
            "N", "previous_match", "Previous match", show=False, id="find.previous", tooltip="Previous match"
        ),
        Binding(
            "escape,ctrl+u",
            "clear_marks",
            "Clear marks",
            show=False,
            id="mark.clear",
            tooltip="Unmark all (again: clear the filter)",
        ),
    ]

    class StatusChanged(Message):
        """The thumbnail source's label or the count of failed cells changed."""

    DEFAULT_CSS = """
    ThumbnailGrid {
        layout: grid;
        grid-size: 1 1;
        grid-gutter: 0;
        height: 1fr;
        &:focus > PictureCell.-cursor { border: heavy $primary-lighten-2; }
        &:focus > PictureCell.-cursor.-marked { border: heavy $warning; }
    }
    """

    def __init__(
        self,
        table: ImageTable,
        source: ThumbnailSource | None,
        *,
        mode: PreviewMode = "halfcell",
        id: str | None = None,  # noqa: A002
    ) -> None:
        super().__init__(id=id)
        self.table = table  # the list: its model is the grid's, its cursor moves are the grid's
        self.source = source if mode != "off" else None
        self.mode: PreviewMode = mode if source is not None else "off"
        self.shape = Shape(1, 1, 1, 1)
        self.top_row = 0
        self.cells: list[GridCell] = []
        self._by_id: dict[str, GridCell] = {}
        self._fetches: dict[tuple[str, tuple[int, int]], asyncio.Task[None]] = {}
        self._downward = True
        self._cursor_cell: GridCell | None = None
        self._wanted_chunks: set[int] = set()
        self.painted = 0  # pictures painted (tests and the benchmark wait on it)
        # Pictures as Strips, per (image, box, size in cells): paging back repaints at once.
        self.strip_cache: LRUCache[
            tuple[str | None, tuple[int, int] | None, tuple[int, int]], list[Strip]
        ] = LRUCache(STRIP_CACHE_PICTURES)
        self._status: tuple[str, int] = ("", 0)  # what the status line last heard
        self._stale = False  # the view changed while the grid was hidden

    # ----------------------------------------------------------------- public API

    @property
    def rows(self):  # the table's model (it is replaced when the table attaches)
        return self.table.rows

    @property
    def failed_count(self) -> int:
        return sum(1 for cell in self.cells if cell.state == "problem")

    @property
    def pending_count(self) -> int:
        """Visible cells still waiting for a row or a picture."""
        return sum(1 for cell in self.cells if cell.state in ("loading", "row-loading"))

    @property
    def source_label(self) -> str:
        return self.source.source_label if self.source is not None else "thumbnails: off (--preview off)"

    def sync(self) -> None:
        """Re-point every cell (the view changed: a reload, a search, marks, a resize)."""
        if not self.cells:
            return
        if not self.display:  # the list is shown: nothing to fetch until the grid is
            self._stale = True
            return
        self._stale = False
        total = self.rows.total
        self.top_row = min(
            top_row_for(self.rows.cursor, self.top_row, self.shape), last_top_row(total, self.shape)
        )
        self._repoint()

    def cursor_moved(self) -> None:
        """The shared cursor moved (here, or from the list, n/N, a delete): follow it."""
        if not self.cells:
            return
        if not self.display:
            self._stale = True
            return
        top = top_row_for(self.rows.cursor, self.top_row, self.shape)
        if top != self.top_row:
            self._downward = top > self.top_row
            self.top_row = top
            self._repoint()
            return
        cell = self._cell_at(self.rows.cursor)
        if cell is not self._cursor_cell:
            old, self._cursor_cell = self._cursor_cell, cell
            for each in (old, cell):
                if each is not None and each.index >= 0:
                    each.set_marks(cursor=each is cell, marked=each.marked)

    def marks_changed(self) -> None:
        """Marks changed (space, *, esc): re-caption the cells on screen."""
        if not self.display:
            self._stale = True
            return
        is_marked = self.rows.is_marked
        for cell in self.cells:
            if cell.image_id is not None:
                cell.set_marks(cursor=cell is self._cursor_cell, marked=is_marked(cell.image_id))

    def retry(self) -> None:
        """`r`: cells that failed (a backend down) ask again."""
        for cell in self.cells:
            if cell.state == "problem" and cell.image_id is not None:
                cell.show_loading()
                cell.box = None
        self._schedule(force_failed=True)

    def scroll_rows(self, delta: int) -> None:
        """The wheel: the view moves by rows; the cursor stays (as in the list)."""
        top = max(0, min(self.top_row + delta, last_top_row(self.rows.total, self.shape)))
        if top != self.top_row:
            self._downward = delta > 0
            self.top_row = top
            self._repoint()

    # ----------------------------------------------------------------- actions

    def action_move(self, key: str) -> None:
        rows = self.rows
        target = moved(rows.cursor, key, rows.total, self.shape)
        if target != rows.cursor:
            self.table.move_cursor(target)
            self.cursor_moved()

    def action_select(self) -> None:
        self.table.action_select()

    def action_toggle_mark(self) -> None:
        self.table.action_toggle_mark()  # marks, then steps to the next image
        self.marks_changed()
        self.cursor_moved()

    def action_mark_all(self) -> None:
        self.table.action_mark_all()  # the screen re-captions on MarksChanged

    def action_clear_marks(self) -> None:
        self.table.action_clear_marks()
        self.marks_changed()

    def action_next_match(self) -> None:
        self.table.action_next_match()  # the cursor's Highlighted brings the grid along

    def action_previous_match(self) -> None:
        self.table.action_previous_match()

    # ----------------------------------------------------------------- layout

    def on_resize(self, event: events.Resize) -> None:
        self._relayout()

    def on_show(self) -> None:
        self._relayout()
        if self._stale:
            self.sync()

    def _relayout(self) -> None:
        size = self.content_size
        if size.width <= 0 or size.height <= 0:
            return
        shape = grid_shape(size.width, size.height)
        if shape == self.shape and self.cells:
            return
        self.shape = shape
        self.styles.grid_size_columns = shape.columns
        self.styles.grid_size_rows = shape.rows
        while len(self.cells) < shape.cells:
            cell = self._cell_class(len(self.cells), self.mode)
            cell.focused_grid = self.has_focus
            self.cells.append(cell)
            self.mount(cell)
        while len(self.cells) > shape.cells:
            self.cells.pop().remove()
        for cell in self.cells:
            cell.box = None  # a new size: pictures for the new area
        self.sync()

    # ----------------------------------------------------------------- pointing

    def _cell_at(self, index: int) -> GridCell | None:
        slot = index - self.top_row * self.shape.columns
        return self.cells[slot] if 0 <= slot < len(self.cells) else None

    def _repoint(self) -> None:
        rows = self.rows
        first = self.top_row * self.shape.columns
        cursor = rows.cursor
        self._by_id.clear()
        self._cursor_cell = None
        missing_row = False
        for cell in self.cells:
            index = first + cell.slot
            if index >= rows.total:
                cell.point(-1, None, cursor=False, marked=False)
                continue
            row = rows.row(index)
            missing_row = missing_row or row is None
            cell.point(index, row, cursor=index == cursor, marked=row is not None and rows.is_marked(row.id))
            if row is not None:
                self._by_id[row.id] = cell
            if index == cursor:
                self._cursor_cell = cell
        self._want_rows()
        self._schedule()

    def _want_rows(self) -> None:
        """Rows for the screen and one screen ahead, read in chunks on the catalogue's thread."""
        first = max(0, (self.top_row - self.shape.rows) * self.shape.columns)
        last = (self.top_row + 2 * self.shape.rows) * self.shape.columns
        chunks = [k for k in self.rows.missing(first, last) if k not in self._wanted_chunks]
        if chunks:
            self._wanted_chunks.update(chunks)
            self._load_chunks(chunks)

    @work(group="grid-rows", exit_on_error=False)
    async def _load_chunks(self, chunks: list[int]) -> None:
        try:
            arrived = await self.rows.load(chunks)
        finally:
            self._wanted_chunks.difference_update(chunks)
        if arrived:
            self._repoint()
            self.table.move_cursor(self.rows.cursor)  # the cursor's image may have arrived

    # ----------------------------------------------------------------- fetching

    def _area(self) -> tuple[int, int]:
        return self.shape.picture_area

    def _box(self) -> tuple[int, int]:
        return decode_box(self.mode, self._area(), cell_size())

    def _schedule(self, *, force_failed: bool = False) -> None:
        """Fetch what is visible and one screen ahead; cancel what fell out of it."""
        source = self.source
        if source is None:
            return
        rows = self.rows
        box, area = self._box(), self._area()
        keep: set[tuple[str, tuple[int, int]]] = set()
        for index, priority in wanted(
            rows.total, self.top_row, self.shape, rows.cursor, downward=self._downward
        ):
            row = rows.row(index)
            if row is None:
                continue
            key = (row.id, box)
            cell = self._by_id.get(row.id)
            if key in self._fetches:
                keep.add(key)  # on its way
                if cell is not None:
                    cell.box = box
                continue
            if cell is not None and cell.box == box and not (force_failed and cell.state == "problem"):
                continue  # painted at this size already
            image = to_metadata(row)
            if not (force_failed and cell is not None):
                known = source.peek(image, box)
                if known is not None:
                    if cell is not None:
                        cell.box = box
                        if self._ready(cell, known):
                            self._paint(cell, known, area)
                        else:  # in memory, not rendered for this cell yet: in a thread
                            keep.add(key)
                            self._fetches[key] = asyncio.create_task(self._fetch(image, box, 0, known))
                    continue
            keep.add(key)
            if cell is not None:
                cell.box = box
            self._fetches[key] = asyncio.create_task(self._fetch(image, box, priority))
        for key, task in list(self._fetches.items()):
            if key not in keep:
                task.cancel()  # scrolled away: its queued decode is dropped too
                del self._fetches[key]

    async def _fetch(
        self,
        image: ImageMetadata,
        box: tuple[int, int],
        priority: int,
        known: ThumbnailResultLike | None = None,
    ) -> None:
        key = (image.id, box)
        try:
            result = known or await self.source.get(image, box, priority=priority)  # type: ignore[union-attr]
            await self._render_ahead(image.id, box, result)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the source answers problems as results; a bug is said too
            result = _Problem(f"Thumbnail failed: {describe_failure(error)}")
        finally:
            if self._fetches.get(key) is asyncio.current_task():
                del self._fetches[key]
        cell = self._by_id.get(image.id)
        # Only the cell that shows this image, at this size, now: never a late wrong paint.
        if cell is not None and cell.image_id == image.id and cell.box == box:
            self._paint(cell, result, self._area())

    async def _render_ahead(self, image_id: str, box: tuple[int, int], result: ThumbnailResultLike) -> None:
        """Turn a text renderer's picture into Strips in a thread, not in the frame that shows it."""
        cell = self._by_id.get(image_id)
        if result.image is None or not isinstance(cell, TextCell) or cell.image_id != image_id:
            return
        size = cell.picture_size(result.image, self._area())
        key = (image_id, box, size)
        if key in self.strip_cache:
            return
        flat = cell._flattened(result.image)
        console, mode = self.app.console, self.mode
        strips = await asyncio.to_thread(render_picture, console, flat, mode, *size)
        self.strip_cache[key] = strips

    def _ready(self, cell: GridCell, result: ThumbnailResultLike) -> bool:
        """Can `result` be painted into `cell` now, with no rendering in this frame?"""
        if result.image is None or not isinstance(cell, TextCell):
            return True
        size = cell.picture_size(result.image, self._area())
        return (cell.image_id, cell.box, size) in self.strip_cache

    def _paint(self, cell: GridCell, result: ThumbnailResultLike, area: tuple[int, int]) -> None:
        try:
            cell.paint(result, area)
        except Exception as error:  # a picture the renderer chokes on: said in its cell, once
            cell.paint(_Problem(f"failed: {type(error).__name__}"), area)
        self.painted += 1
        status = (self.source_label, self.failed_count)
        if status != self._status:
            self._status = status
            self.post_message(self.StatusChanged())

    @property
    def _cell_class(self) -> type[GridCell]:
        return PictureCell if self.mode in ("tgp", "sixel") else TextCell

    def on_focus(self) -> None:
        for cell in self.cells:
            cell.set_grid_focus(True)

    def on_blur(self) -> None:
        for cell in self.cells:
            cell.set_grid_focus(False)

    # ----------------------------------------------------------------- mouse

    def on_click(self, event: events.Click) -> None:
        widget = event.widget
        while widget is not None and not isinstance(widget, GridCell):
            widget = widget.parent if isinstance(widget.parent, Widget) else None
        if not isinstance(widget, GridCell) or widget.index < 0:
            return
        if widget.index == self.rows.cursor and event.chain >= 2:
            self.action_select()
            return
        self.table.move_cursor(widget.index)
        self.cursor_moved()

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        self.scroll_rows(1)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        self.scroll_rows(-1)

    # ----------------------------------------------------------------- lifecycle

    def on_unmount(self) -> None:
        for task in self._fetches.values():
            task.cancel()
        self._fetches.clear()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        error = event.worker.error
        if event.state == WorkerState.ERROR and error is not None:
            self.app.post_message(WorkerFailed(event.worker, error))


class _Problem:
    """A failure the source did not turn into a result itself."""

    image = None
    source = "none"

    def __init__(self, problem: str) -> None:
        self.problem = problem
