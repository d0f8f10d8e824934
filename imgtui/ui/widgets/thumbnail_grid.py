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

from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from imgtui.service import ImageMetadata
from imgtui.ui.preview.geometry import decode_box
from imgtui.ui.preview.terminal import PreviewMode, cell_size
from imgtui.ui.widgets.grid_cells import (
    CELL_COMPONENT_CLASSES,
    CELL_COMPONENT_CSS,
    GridCell,
    PictureCell,
    TextCell,
    ThumbnailResultLike,
    render_picture,
)
from imgtui.ui.widgets.grid_geometry import (
    Shape,
    grid_shape,
    last_top_row,
    moved,
    top_row_for,
    wanted,
)
from imgtui.ui.widgets.image_table import IMAGE_ACTION_BINDINGS
from imgtui.ui.worker_errors import WorkerFailed, describe_failure
from imgtui.workflows.catalogue_rows import to_metadata

if TYPE_CHECKING:
    from imgtui.ui.widgets.image_table import ImageTable

__all__ = ["GridCell", "PictureCell", "TextCell", "ThumbnailGrid", "ThumbnailResultLike", "ThumbnailSource"]

STRIP_CACHE_PICTURES = 120  # ~3 screens: each picture is ~500 small objects, all walked by every full GC
# Half-cell pictures up to this many cells are drawn in the frame that shows them:
# `halfcell_strips` makes a 16x6 one in ~0.1 ms, less than the hop to a thread and back.
INLINE_HALFCELL_CELLS = 2_000


class ThumbnailSource(Protocol):
    """The thumbnail source the grid reads (workflows/thumbnails.py `Thumbnails`)."""

    @property
    def source_label(self) -> str: ...

    def peek(self, image: ImageMetadata, box: tuple[int, int]) -> ThumbnailResultLike | None: ...

    async def get(
        self, image: ImageMetadata, box: tuple[int, int], *, priority: int = 0
    ) -> ThumbnailResultLike: ...

    async def warm(self, image: ImageMetadata, box: tuple[int, int], *, priority: int = 0) -> bool: ...


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
        *IMAGE_ACTION_BINDINGS,
    ]

    class StatusChanged(Message):
        """The thumbnail source's label or the count of failed cells changed."""

    COMPONENT_CLASSES: ClassVar[set[str]] = set(CELL_COMPONENT_CLASSES)  # the text cells' colours

    DEFAULT_CSS = (
        """
    ThumbnailGrid {
        layout: grid;
        grid-size: 1 1;
        grid-gutter: 0;
        height: 1fr;
        &:focus > PictureCell.-cursor { border: heavy $primary-lighten-2; }
        &:focus > PictureCell.-cursor.-marked { border: heavy $warning; }
"""
        + CELL_COMPONENT_CSS
        + """
    }
    """
    )

    def __init__(
        self,
        table: ImageTable,
        source: ThumbnailSource | None,
        *,
        mode: PreviewMode = "halfcell",
        size_hint: tuple[int, int] | None = None,
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
        # Pictures as Strips, per (image and upload time, box, size in cells): paging back
        # repaints at once.
        self.strip_cache: LRUCache[
            tuple[tuple[str | None, int | None], tuple[int, int] | None, tuple[int, int]], list[Strip]
        ] = LRUCache(STRIP_CACHE_PICTURES)
        self._status: tuple[str, int] = ("", 0)  # what the status line last heard
        self._stale = False  # the view changed while the grid was hidden
        if size_hint is not None and min(size_hint) > 0:
            # The size the grid will have (the list's, whose place it takes): its cells are
            # mounted with it, so the layout that first shows it has them, instead of a
            # second layout and frame once its size is known (a wrong guess is re-laid out
            # on resize, as before).
            self.shape = grid_shape(*size_hint)
            self.styles.grid_size_columns = self.shape.columns
            self.styles.grid_size_rows = self.shape.rows
            self.cells = [self._cell_class(slot, self.mode) for slot in range(self.shape.cells)]
            for cell in self.cells:
                cell.planned_width = self.shape.cell_width
            self._stale = True  # pointed when first shown

    def compose(self) -> ComposeResult:
        yield from self.cells

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

    async def warm_first_screen(self) -> None:
        """Not shown yet: have the source read what the first screen will show into memory
        (from its disk cache only), so that showing the grid paints from memory."""
        source, rows, shape = self.source, self.rows, self.shape
        if source is None or not self.cells:
            return
        top = min(top_row_for(rows.cursor, self.top_row, shape), last_top_row(rows.total, shape))
        first = top * shape.columns
        box = self._box()
        shown = [(index, rows.row(index)) for index in range(first, min(rows.total, first + shape.cells))]
        await asyncio.gather(
            *(
                source.warm(to_metadata(row), box, priority=abs(index - rows.cursor))
                for index, row in shown
                if row is not None
            )
        )

    def about_to_show(self) -> None:
        """The grid was just made visible (mounted hidden before, its size known from the
        list's): point its cells and paint what memory holds now, so the layout that shows the
        grid draws its pictures too, instead of a frame of empty cells and then another."""
        if self._stale and self.cells:
            self.sync()

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
        added = [self._cell_class(slot, self.mode) for slot in range(len(self.cells), shape.cells)]
        for cell in added:
            cell.focused_grid = self.has_focus
        if added:
            self.cells.extend(added)
            self.mount(*added)  # one mount: one layout, not one per cell
        for cell in self.cells:
            cell.planned_width = shape.cell_width
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
        """Turn a text renderer's picture into Strips in a thread, not in the frame that shows
        it (unless it is a small half-cell one: cheaper drawn in the frame)."""
        cell = self._by_id.get(image_id)
        if result.image is None or not isinstance(cell, TextCell) or cell.image_id != image_id:
            return
        size = cell.picture_size(result.image, self._area())
        if self._inline(size):
            return
        key = (cell.picture_id, box, size)
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
        return self._inline(size) or (cell.picture_id, cell.box, size) in self.strip_cache

    def _inline(self, size: tuple[int, int]) -> bool:
        return self.mode == "halfcell" and size[0] * size[1] <= INLINE_HALFCELL_CELLS

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
