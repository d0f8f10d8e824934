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
from typing import TYPE_CHECKING, ClassVar, Protocol

from PIL import Image as PILImage
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container
from textual.content import Content
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from imgtui.common.text import safe_text
from imgtui.service import ImageMetadata
from imgtui.ui.preview.geometry import decode_box, fit_cells
from imgtui.ui.preview.terminal import PreviewMode, cell_size, widget_class
from imgtui.ui.widgets import table_layout
from imgtui.ui.widgets.grid_geometry import Shape, grid_shape, last_top_row, moved, top_row_for, wanted
from imgtui.ui.widgets.table_layout import clean, fit, fit_middle
from imgtui.ui.worker_errors import WorkerFailed, describe_failure
from imgtui.workflows.catalogue_rows import CatalogueRow, to_metadata

if TYPE_CHECKING:
    from textual_image.widget._base import Image as ImageWidget

    from imgtui.ui.widgets.image_table import ImageTable

__all__ = ["GridCell", "ThumbnailGrid", "ThumbnailResultLike", "ThumbnailSource"]

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


def caption(row: CatalogueRow, width: int, *, marked: bool) -> Content:
    """`● name ◆`: the mark, the filename (else the id) cut in the middle, the lock."""
    glyphs = table_layout.glyphs()
    lock = glyphs.lock if row.signed else ""
    name_width = max(0, width - 2 - (table_layout.LOCK_WIDTH if row.signed else 0))
    name = fit_middle(clean(row.filename) or clean(row.id), name_width)
    return Content.from_markup(
        "[$text-warning][b]$mark[/b][/]$name[$text-warning]$lock[/]",
        mark=(glyphs.mark + " ") if marked else "  ",
        name=name,
        lock=fit(lock, table_layout.LOCK_WIDTH) if lock else "",
    )


class GridCell(Widget):
    """One cell of the pool: a picture (or why there is none) over a caption line."""

    DEFAULT_CSS = """
    GridCell {
        width: 1fr;
        height: 1fr;
        border: round $panel-lighten-1;
        layout: vertical;
    }
    GridCell.-cursor { border: round $foreground-muted; }
    GridCell.-marked { border: round $warning; }
    GridCell.-marked.-cursor { border: round $warning-lighten-2; }
    GridCell.-empty { border: none; }
    GridCell > .cell--stage { width: 1fr; height: 1fr; align: center middle; }
    GridCell .cell--message { width: auto; max-width: 100%; height: auto; color: $text-muted; }
    GridCell .cell--message.-problem { color: $text-error; }
    GridCell > .cell--caption { width: 1fr; height: 1; }
    GridCell.-marked > .cell--caption { color: $text-warning; }
    """

    def __init__(self, slot: int, mode: PreviewMode) -> None:
        super().__init__(classes="-empty")
        self.slot = slot  # position in the pool: row-major on screen
        self.mode = mode
        self.index = -1  # the list index shown (-1: none)
        self.image_id: str | None = None
        self.box: tuple[int, int] | None = None  # the pixel box its picture is wanted at
        # empty | row-loading | loading | picture | problem (retry with r) | verdict (SVG…) | off
        self.state = "empty"
        self.problem = ""
        self._row: CatalogueRow | None = None
        self._fitted: tuple[int, int] | None = None
        self._stage = Container(classes="cell--stage")
        self._message = Static("", markup=False, classes="cell--message")
        self._caption = Static("", markup=False, classes="cell--caption")
        self._picture: ImageWidget | None = widget_class(mode)(None) if mode != "off" else None

    def compose(self) -> ComposeResult:
        with self._stage:
            if self._picture is not None:
                yield self._picture
            yield self._message
        yield self._caption

    def on_mount(self) -> None:
        if self._picture is not None:
            self._picture.display = False

    def on_resize(self, event: events.Resize) -> None:
        self.recaption(marked=self.has_class("-marked"))  # the name is cut to the new width

    # -- pointing ---------------------------------------------------------------------

    def point(self, index: int, row: CatalogueRow | None, *, cursor: bool, marked: bool) -> bool:
        """Show list index `index` (row None: not read yet). True when the image changed:
        the caller then asks for its picture."""
        self.set_classes(cursor=cursor, marked=marked, empty=index < 0)
        changed = row is None or row.id != self.image_id
        if index < 0:
            self.index, self._row = -1, None
            self._caption.update("", layout=False)
            self._set_message("")
            self.image_id, self.state = None, "empty"
            return False
        self.index = index
        if row is None:
            if self.state != "row-loading":
                self.image_id, self._row, self.state = None, None, "row-loading"
                self._caption.update(LOADING_GLYPH, layout=False)
                self._set_message(LOADING_GLYPH)
            return False
        if changed or row != self._row or marked != self.has_class("-marked-shown"):
            self._caption.update(caption(row, self._caption_width(), marked=marked), layout=False)
            self.set_class(marked, "-marked-shown")
        self._row = row
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

    def set_classes(self, *, cursor: bool, marked: bool, empty: bool) -> None:
        self.set_class(cursor and not empty, "-cursor")
        self.set_class(marked and not empty, "-marked")
        self.set_class(empty, "-empty")

    def _caption_width(self) -> int:
        width = self._caption.content_size.width
        return width if width > 0 else max(1, self.size.width - 2)

    def recaption(self, *, marked: bool) -> None:
        if self._row is not None:
            self._caption.update(caption(self._row, self._caption_width(), marked=marked), layout=False)

    # -- pictures ---------------------------------------------------------------------

    def paint(self, result: ThumbnailResultLike, area: tuple[int, int]) -> None:
        if result.image is None:
            self.problem = result.problem or "no picture"
            transient = is_transient(self.problem)
            self.state = "problem" if transient else "verdict"
            self._set_message(f"⚠ {self.problem}" if transient else f"({self.problem})", problem=transient)
            return
        assert self._picture is not None
        self.state = "picture"
        self.problem = ""
        fitted = fit_cells(result.image.size, area, cell_size(), self.mode)
        if fitted != self._fitted:
            self._fitted = fitted
            self._picture.styles.width, self._picture.styles.height = fitted
        self._message.display = False
        self._picture.image = self._flattened(result.image)
        self._picture.display = True

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

    def _set_message(self, text: str, *, problem: bool = False) -> None:
        if self._picture is not None and self._picture.display:
            self._picture.display = False
            self._picture.image = None
        shown = safe_text(text[:PROBLEM_CHARS] + ("…" if len(text) > PROBLEM_CHARS else ""))
        self._message.update(shown, layout=False)
        self._message.set_class(problem, "-problem")
        self._message.display = bool(text)

    @property
    def shown_text(self) -> str:
        """What the cell says instead of a picture (tests read it)."""
        return str(self._message.render()) if self._message.display else ""

    @property
    def caption_text(self) -> str:
        return str(self._caption.render())


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
        & > GridCell.-cursor { background: $boost; }
        &:focus > GridCell.-cursor { border: heavy $accent; }
        &:focus > GridCell.-cursor.-marked { border: heavy $warning; }
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
        self._status: tuple[str, int] = ("", 0)  # what the status line last heard

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
        total = self.rows.total
        self.top_row = min(
            top_row_for(self.rows.cursor, self.top_row, self.shape), last_top_row(total, self.shape)
        )
        self._repoint()

    def cursor_moved(self) -> None:
        """The shared cursor moved (here, or from the list, n/N, a delete): follow it."""
        if not self.cells:
            return
        top = top_row_for(self.rows.cursor, self.top_row, self.shape)
        if top != self.top_row:
            self._downward = top > self.top_row
            self.top_row = top
            self._repoint()
            return
        cell = self._cell_at(self.rows.cursor)
        if cell is not self._cursor_cell:
            marked = self.rows.is_marked
            for old_or_new in (self._cursor_cell, cell):
                if old_or_new is not None and old_or_new.index >= 0:
                    old_or_new.set_classes(
                        cursor=old_or_new is cell,
                        marked=old_or_new.image_id is not None and marked(old_or_new.image_id),
                        empty=False,
                    )
            self._cursor_cell = cell

    def marks_changed(self) -> None:
        """Marks changed (space, *, esc): re-caption the cells on screen."""
        is_marked = self.rows.is_marked
        for cell in self.cells:
            if cell.image_id is not None:
                marked = is_marked(cell.image_id)
                cell.set_classes(cursor=cell is self._cursor_cell, marked=marked, empty=False)
                cell.recaption(marked=marked)

    def retry(self) -> None:
        """`r`: cells that failed (a backend down) ask again."""
        for cell in self.cells:
            if cell.state == "problem" and cell.image_id is not None:
                cell.show_loading()
                cell.box = None
        self._schedule(force_failed=True)

    def forget(self, image_id: str) -> None:
        """An image was edited or deleted: its cell asks for the picture afresh."""
        cell = self._by_id.get(image_id)
        if cell is not None:
            cell.box = None
            cell.show_loading()
            self._schedule()

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
            cell = GridCell(len(self.cells), self.mode)
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
                        self._paint(cell, known, area)
                    continue
            keep.add(key)
            if cell is not None:
                cell.box = box
            self._fetches[key] = asyncio.create_task(self._fetch(image, box, priority))
        for key, task in list(self._fetches.items()):
            if key not in keep:
                task.cancel()  # scrolled away: its queued decode is dropped too
                del self._fetches[key]

    async def _fetch(self, image: ImageMetadata, box: tuple[int, int], priority: int) -> None:
        key = (image.id, box)
        try:
            result = await self.source.get(image, box, priority=priority)  # type: ignore[union-attr]
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

    def _paint(self, cell: GridCell, result: ThumbnailResultLike, area: tuple[int, int]) -> None:
        cell.paint(result, area)
        self.painted += 1
        status = (self.source_label, self.failed_count)
        if status != self._status:
            self._status = status
            self.post_message(self.StatusChanged())

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
