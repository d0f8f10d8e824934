"""`f`: one image as large as the terminal allows, stepping through the list's order.

The viewer moves the list's own cursor (`ImageTable.move_cursor`), so `esc` returns to the
list or the grid on the image last viewed, with the details panel on it. Pictures come from
a `PreviewLoader` of its own: the original is fetched once and decoded once at the screen's
pixel box (`decode_thumbnail`, JPEG `draft()`), off the event loop; the neighbours in the
list's order are fetched and decoded ahead, so a step shows them at once.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, ClassVar

from PIL import Image as PILImage
from rich.segment import Segment
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.containers import Container
from textual.content import Content
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static

from imgtui.common.sizes import human_size
from imgtui.common.text import safe_text
from imgtui.ui.preview.decode import Thumbnail
from imgtui.ui.preview.geometry import decode_box, fit_cells
from imgtui.ui.preview.loader import PreviewLoader, PreviewMessage, PreviewOutcome, bucket_box
from imgtui.ui.preview.terminal import PreviewMode, cell_size, widget_class
from imgtui.ui.widgets.grid_cells import render_picture
from imgtui.ui.widgets.table_layout import clean, fit_middle
from imgtui.ui.worker_errors import ForwardsWorkerErrors
from imgtui.workflows.catalogue_rows import CatalogueRow
from imgtui.workflows.image_decode import flatten_alpha

if TYPE_CHECKING:
    from textual_image.widget._base import Image as ImageWidget

    from imgtui.service import Images
    from imgtui.ui.widgets.image_table import ImageTable

__all__ = ["ViewerScreen"]

# A few full-screen pictures and originals: the one shown and its prefetched neighbours.
VIEWER_THUMBNAILS_BYTES = 64 * 1024 * 1024
VIEWER_ORIGINALS_BYTES = 48 * 1024 * 1024
PREFETCH = 1  # neighbours each way
OFF_TEXT = "Pictures are off for this session: start imgtui with --preview auto"


class PictureStrips(Widget):
    """A picture already rendered to Strips (half-cell, unicode): showing it, or another one,
    is a repaint of its lines; textual-image's widget would resample and rebuild every cell
    of a full-screen picture on each repaint (~100 ms at 160x45)."""

    def __init__(self) -> None:
        super().__init__(id="viewer-strips")
        self.strips: list[Strip] = []
        self.painted_at = 0.0  # when its lines were last drawn (the benchmark reads it)

    def show_strips(self, strips: list[Strip]) -> None:
        self.strips = strips
        self.refresh()

    def render_line(self, y: int) -> Strip:
        width, height = self.size
        strips = self.strips
        if y == height - 1:
            self.painted_at = time.perf_counter()
        top = (height - len(strips)) // 2
        if not 0 <= y - top < len(strips):
            return Strip.blank(width, self.rich_style)
        strip = strips[y - top]
        left = max(0, (width - strip.cell_length) // 2)
        return Strip([Segment(" " * left, self.rich_style), *strip]).extend_cell_length(
            width, self.rich_style
        )


class ViewerScreen(ForwardsWorkerErrors, Screen[None]):
    """The cursor's image, full screen; left/right (j/k) step, esc goes back."""

    BINDING_GROUP_TITLE = "Viewer"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f,q", "close", "Back", id="viewer.close", tooltip="Back to the list"),
        Binding("right,j,l,space,pagedown", "step(1)", "Next", id="viewer.next", tooltip="Next image"),
        Binding(
            "left,k,h,backspace,pageup", "step(-1)", "Previous", id="viewer.previous", tooltip="Previous"
        ),
        Binding("home,g", "jump(0)", "First", show=False, id="viewer.first", tooltip="First image"),
        Binding("end,G", "jump(-1)", "Last", show=False, id="viewer.last", tooltip="Last image"),
    ]

    DEFAULT_CSS = """
    ViewerScreen { background: $background; layout: vertical; }
    ViewerScreen > #viewer-stage { width: 1fr; height: 1fr; align: center middle; }
    ViewerScreen #viewer-strips { width: 1fr; height: 1fr; }
    ViewerScreen #viewer-message { width: auto; max-width: 100%; height: auto; color: $text-muted; }
    ViewerScreen #viewer-message.-error { color: $text-error; }
    ViewerScreen > #viewer-caption { height: 1; padding: 0 1; background: $panel; color: $text; }
    """

    def __init__(self, images: Images, table: ImageTable, *, mode: PreviewMode) -> None:
        super().__init__(id="viewer")
        self.images = images
        self.table = table
        self.mode: PreviewMode = mode
        self.loader = PreviewLoader(
            images, thumbnail_budget=VIEWER_THUMBNAILS_BYTES, original_budget=VIEWER_ORIGINALS_BYTES
        )
        self.shown_id: str | None = None  # whose picture (or message) is up
        self.wanted_id: str | None = None
        # Text renderers draw pre-rendered Strips; the graphics protocols need their widget.
        self._strips: PictureStrips | None = PictureStrips() if mode in ("halfcell", "unicode") else None
        self._picture: ImageWidget | None = widget_class(mode)(None) if mode in ("tgp", "sixel") else None
        self._rendered: LRUCache[tuple[str, tuple[int, int], tuple[int, int]], list[Strip]] = LRUCache(8)
        self._message = Static("", markup=False, id="viewer-message")
        self._caption = Static("", markup=False, id="viewer-caption")
        self._load: asyncio.Task[None] | None = None
        self._prefetch: list[asyncio.Task[PreviewOutcome]] = []
        self.shown_at: float = 0.0  # loop time of the last picture painted (the benchmark reads it)

    def compose(self) -> ComposeResult:
        with Container(id="viewer-stage"):
            if self._picture is not None:
                yield self._picture
            if self._strips is not None:
                yield self._strips
            yield self._message
        yield self._caption

    def on_mount(self) -> None:
        if self._picture is not None:
            self._picture.display = False
        if self._strips is not None:
            self._strips.display = False
        self.call_after_refresh(self._show_current)

    def on_resize(self, event: events.Resize) -> None:
        if self.is_mounted and self.shown_id is not None:
            self.shown_id = None
            self.call_after_refresh(self._show_current)

    def on_unmount(self) -> None:
        self._cancel_all()
        self.loader.close()

    # ----------------------------------------------------------------- actions

    def action_close(self) -> None:
        self.app.pop_screen()

    def action_step(self, delta: int) -> None:
        rows = self.table.rows
        target = max(0, min(rows.cursor + delta, rows.total - 1))
        if target != rows.cursor:
            self.table.move_cursor(target)
            self._show_current()

    def action_jump(self, index: int) -> None:
        rows = self.table.rows
        self.table.move_cursor(index if index >= 0 else rows.total - 1)
        self._show_current()

    # ----------------------------------------------------------------- showing

    def _area(self) -> tuple[int, int] | None:
        size = self.query_one("#viewer-stage").content_size
        return (size.width, size.height) if size.width > 0 and size.height > 0 else None

    def _box(self, area: tuple[int, int]) -> tuple[int, int]:
        return bucket_box(*decode_box(self.mode, area, cell_size()))

    def _show_current(self) -> None:
        rows = self.table.rows
        row = rows.current_row
        self._caption.update(self._caption_text(row, rows.cursor, rows.total), layout=False)
        if row is None:
            self._set_message("Nothing to show: the list is empty." if rows.total == 0 else "…")
            if rows.total:
                self._await_row()
            return
        self.wanted_id = row.id
        if self.mode == "off":
            self._set_message(OFF_TEXT)
            return
        area = self._area()
        if area is None:
            return
        box = self._box(area)
        if self._load is not None:
            self._load.cancel()
        cached = self.loader.cached(row.id, box)
        if cached is not None and self._is_ready(row.id, box, cached, area):
            self._present(row.id, cached, area)
        else:
            if self.shown_id != row.id:
                self._set_message("Loading…")
            self._load = asyncio.create_task(self._fetch(row.id, box, area))
        self._prefetch_neighbours(box)

    def _await_row(self) -> None:
        """The cursor's row is not read yet (a jump to the end): read it, then show."""

        async def read() -> None:
            rows = self.table.rows
            await rows.load(rows.missing(rows.cursor, rows.cursor))
            if rows.current_row is not None:
                self._show_current()

        self.run_worker(read(), group="viewer-row", exclusive=True, exit_on_error=False)

    async def _fetch(self, image_id: str, box: tuple[int, int], area: tuple[int, int]) -> None:
        outcome = await self.loader.load(image_id, box)
        await self._render_ahead(image_id, box, outcome, area)
        if image_id == self.wanted_id:  # a step meanwhile: this picture is no longer wanted
            self._present(image_id, outcome, area)

    def _prefetch_neighbours(self, box: tuple[int, int]) -> None:
        """Fetch and decode the next and previous images now, one at a time (the loader
        has one decode thread: on 2 cores a second would only slow the screen)."""
        for task in self._prefetch:
            task.cancel()
        rows = self.table.rows
        ids: list[str] = []
        for delta in [d for step in range(1, PREFETCH + 1) for d in (step, -step)]:
            row = rows.row(rows.cursor + delta)
            if row is not None:
                ids.append(row.id)

        area = self._area()

        async def ahead(image_id: str) -> PreviewOutcome:
            if self._load is not None:
                await asyncio.wait([self._load])  # the shown picture first
            outcome = await self.loader.load(image_id, box)
            if area is not None:
                await self._render_ahead(image_id, box, outcome, area)
            return outcome

        self._prefetch = [asyncio.create_task(ahead(image_id)) for image_id in ids]

    def _size_of(self, thumbnail: Thumbnail, area: tuple[int, int]) -> tuple[int, int]:
        return fit_cells(thumbnail.original_size, area, cell_size(), self.mode)

    def _is_ready(
        self, image_id: str, box: tuple[int, int], outcome: PreviewOutcome, area: tuple[int, int]
    ) -> bool:
        if self._strips is None or isinstance(outcome, PreviewMessage):
            return True
        return (image_id, box, self._size_of(outcome, area)) in self._rendered

    async def _render_ahead(
        self, image_id: str, box: tuple[int, int], outcome: PreviewOutcome, area: tuple[int, int]
    ) -> None:
        """Text renderers: the picture as Strips, made in a thread (not in the frame that
        shows it), kept for the shown image and its neighbours."""
        if self._strips is None or isinstance(outcome, PreviewMessage):
            return
        size = self._size_of(outcome, area)
        key = (image_id, box, size)
        if key not in self._rendered:
            flat = self._flattened(outcome.image)
            console, mode = self.app.console, self.mode
            self._rendered[key] = await asyncio.to_thread(render_picture, console, flat, mode, *size)

    def _present(self, image_id: str, outcome: PreviewOutcome, area: tuple[int, int]) -> None:
        self.shown_id = image_id
        if isinstance(outcome, PreviewMessage):
            self._set_message(outcome.text, error=outcome.is_error)
            return
        if self._strips is not None:
            box = self._box(area)
            size = self._size_of(outcome, area)
            strips = self._rendered.get((image_id, box, size))
            if strips is None:
                strips = render_picture(self.app.console, self._flattened(outcome.image), self.mode, *size)
            self._message.display = False
            self._strips.show_strips(strips)
            self._strips.display = True
            self.shown_at = asyncio.get_running_loop().time()
            return
        assert self._picture is not None
        self._fit(outcome, area)
        self._message.display = False
        self._picture.image = self._flattened(outcome.image)
        self._picture.display = True
        self.shown_at = asyncio.get_running_loop().time()

    def _fit(self, thumbnail: Thumbnail, area: tuple[int, int]) -> None:
        assert self._picture is not None
        width, height = fit_cells(thumbnail.original_size, area, cell_size(), self.mode)
        self._picture.styles.width, self._picture.styles.height = width, height

    def _flattened(self, image: PILImage.Image) -> PILImage.Image:
        """Text renderers draw alpha as black: flatten onto this widget's own background."""
        if self.mode not in ("halfcell", "unicode"):
            return image
        return flatten_alpha(image, self.background_colors[1].rgb)

    def _set_message(self, text: str, *, error: bool = False) -> None:
        if self._strips is not None:
            self._strips.display = False
        if self._picture is not None:
            self._picture.display = False
            self._picture.image = None
        self._message.update(safe_text(text, multiline=True))
        self._message.set_class(error, "-error")
        self._message.display = True

    def _caption_text(self, row: CatalogueRow | None, cursor: int, total: int) -> Content:
        width = max(20, self.size.width - 2)
        position = f"{cursor + 1:,} of {total:,}" if total else "0 of 0"
        if row is None:
            return Content(position)
        facts = []
        if row.width > 0 and row.height > 0:
            facts.append(f"{row.width}\u00d7{row.height}")
        if row.size >= 0:
            facts.append(human_size(row.size))
        if row.signed:
            facts.append("signed URLs")
        tail = "  ·  ".join([*facts, position])
        shown = clean(row.filename) or clean(row.id)
        hint = "  ·  ←/→ step · esc back"
        if len(shown) + len(tail) + len(hint) + 5 <= width:  # narrow: the name and facts first
            tail += hint
        name = fit_middle(shown, max(8, width - len(tail) - 5))
        return Content.from_markup("[b]$name[/b]  ·  $tail", name=name.rstrip(), tail=tail)

    def _cancel_all(self) -> None:
        if self._load is not None:
            self._load.cancel()
        for task in self._prefetch:
            task.cancel()
        self._prefetch = []
