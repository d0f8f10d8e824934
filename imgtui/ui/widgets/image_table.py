"""The image list: a line-API ScrollView over the catalogue, smooth at a million rows.

Only the visible lines are ever formatted (`render_line`), from rows the model
(`workflows/catalogue_rows.py` CatalogueRows) reads in chunks on the catalogue's thread; a row
not read yet shows a placeholder and its chunk is asked for once per repaint. Formatted rows
are kept in an LRU of Strips. Line 0 is a sticky column header (the sorted column is marked,
a click sorts by it); the line after the last row tells the catalogue's state.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, ClassVar, Literal

from rich.segment import Segment
from rich.style import Style
from textual import events, work
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import Worker, WorkerState

from imgtui.common.sizes import human_size
from imgtui.ui.widgets import table_layout
from imgtui.ui.widgets.table_layout import (
    DEFAULT_COLUMNS,
    GAP,
    LOCK_WIDTH,
    ColumnName,
    Columns,
    clean,
    fit,
    fit_cell,
    format_uploaded,
    layout_columns,
)
from imgtui.ui.worker_errors import WorkerFailed, describe_failure
from imgtui.workflows.catalogue_rows import CatalogueRow, CatalogueRows, SearchState, Sort, to_metadata
from imgtui.workflows.cataloguing import Cataloguing

if TYPE_CHECKING:  # records are made from rows when asked for (to_metadata), never to draw
    from imgtui.service import ImageMetadata

__all__ = ["SORTABLE", "ImageTable", "LoadState", "SortOrder"]

LoadState = Literal["idle", "loading", "complete", "error"]
SortOrder = Literal["asc", "desc"]
# Columns the list can sort by (the header marks the one in use); `format` and `id` cannot.
SORTABLE: tuple[ColumnName, ...] = ("uploaded", "filename", "creator", "size", "dimensions")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PLACEHOLDER = "…"
SETTLE_AFTER_S = 0.2  # typing pauses this long before the exact match count is asked


_start_up_frozen = False


def freeze_start_up() -> None:
    """Once the first rows are painted, what start-up built (widgets, styles, caches) lives
    as long as the app: move it out of the cyclic GC's sight, as imgtui.cli does for what
    the imports made (measured at a million rows: full collections of 12-24 ms while
    scrolling and searching, each one a stall). Only when the launcher froze the imports
    (gc.get_freeze_count() > 0): an app embedded elsewhere, or a test, keeps its GC as is."""
    global _start_up_frozen
    if _start_up_frozen or not gc.isenabled() or gc.get_freeze_count() == 0:
        return
    _start_up_frozen = True
    gc.freeze()  # O(1): no collection first (that would be the very stall this avoids)


def cell_text(name: ColumnName, row: CatalogueRow, cells: int) -> str:
    """One cell's text, before fitting; file columns are blank when the catalogue lacks them."""
    if name == "id":
        return clean(row.id)
    if name == "filename":
        return clean(row.filename)
    if name == "uploaded":
        return format_uploaded(_EPOCH + timedelta(milliseconds=row.uploaded), cells)
    if name == "creator":
        return clean(row.creator) or "—"
    if row.size < 0:
        return ""
    if name == "size":
        return human_size(row.size)
    if name == "dimensions":
        return f"{row.width}\u00d7{row.height}" if row.width > 0 and row.height > 0 else ""
    return clean(row.format.upper())


class TableMessage(Message):
    """A message from an ImageTable; `control` lets handlers use `@on(..., "#id")`."""

    def __init__(self, table: ImageTable) -> None:
        super().__init__()
        self.table = table

    @property
    def control(self) -> ImageTable:
        return self.table


# The keys the list and the thumbnail grid share (the same ids: one keymap entry remaps both).
IMAGE_ACTION_BINDINGS: list[BindingType] = [
    Binding(
        "enter",
        "select",
        "Actions",
        show=False,
        id="list.select",
        tooltip="Actions for this image",
    ),
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
        "N",
        "previous_match",
        "Previous match",
        show=False,
        id="find.previous",
        tooltip="Previous search match",
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


class ImageTable(ScrollView, can_focus=True):
    """The catalogue's rows, a cursor, marks, the search and the sort."""

    BINDING_GROUP_TITLE = "Image list"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor_up", "Up", show=False, id="list.up", tooltip="Previous image"),
        Binding("down,j", "cursor_down", "Down", show=False, id="list.down", tooltip="Next image"),
        Binding("pageup", "page_up", "Page up", show=False, id="list.page_up", tooltip="One screen up"),
        Binding(
            "pagedown", "page_down", "Page down", show=False, id="list.page_down", tooltip="One screen down"
        ),
        Binding("home,g", "first", "First", show=False, id="list.first", tooltip="First image"),
        Binding(
            "end,G",
            "last",
            "Last",
            show=False,
            id="list.last",
            tooltip="Last image",
        ),
        *IMAGE_ACTION_BINDINGS,
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "image-table--header",
        "image-table--cursor",
        "image-table--marked",
        "image-table--mark",
        "image-table--dim",
        "image-table--lock",
        "image-table--status",
        "image-table--error",
        "image-table--sorted",
    }

    DEFAULT_CSS = """
    ImageTable {
        overflow-x: hidden;
        overflow-y: auto;
        & > .image-table--header { text-style: bold; color: $text-accent; background: $panel; }
        & > .image-table--cursor { background: $block-cursor-blurred-background; }
        &:focus > .image-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .image-table--marked { color: $text-warning; }
        & > .image-table--mark { color: $text-warning; text-style: bold; }
        & > .image-table--dim { color: $text-muted; }
        & > .image-table--lock { color: $text-warning; }
        & > .image-table--status { color: $text-muted; text-style: italic; }
        & > .image-table--error { color: $text-error; text-style: bold; }
        & > .image-table--sorted { text-style: bold underline; }
    }
    """

    class Highlighted(TableMessage):
        """The image under the cursor changed (None: the list is empty)."""

        def __init__(self, table: ImageTable, row: CatalogueRow | None) -> None:
            super().__init__(table)
            self.image_id = row.id if row is not None else None
            self._row = row

        @property
        def image(self) -> ImageMetadata | None:
            """The record, made when asked for: the first highlight comes before the first
            frame, which needs only the id (a pydantic model is built on first use)."""
            return None if self._row is None else to_metadata(self._row)

    class Selected(TableMessage):
        """Enter or a click on the highlighted row: the screen offers the row's actions."""

        def __init__(self, table: ImageTable, image: ImageMetadata) -> None:
            super().__init__(table)
            self.image = image

    class SortRequested(TableMessage):
        """A click on a column's title: sort by it (again: the other direction)."""

        def __init__(self, table: ImageTable, column: ColumnName) -> None:
            super().__init__(table)
            self.column = column

    class ViewChanged(TableMessage):
        """The rows shown changed (a search, a sort, a walk's page): the status line recounts."""

    class FilterCleared(TableMessage):
        """Escape on the list cleared the search (the screen hides its search box)."""

    class MarksChanged(TableMessage):
        def __init__(self, table: ImageTable, count: int) -> None:
            super().__init__(table)
            self.count = count

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:  # noqa: A002
        super().__init__(name=name, id=id, classes=classes)
        self.rows = CatalogueRows()  # the model: this widget renders it and forwards keys
        self.cataloguing: Cataloguing | None = None
        self._last_highlight: str | None = None
        self._strips: LRUCache[tuple, Strip] = LRUCache(1024)
        self._own_style: Style | None = None  # rich_style, kept until the styles change
        self.column_names: tuple[ColumnName, ...] = DEFAULT_COLUMNS  # the config's choice and order
        # The file columns show once the catalogue is known to hold the facts (a local library).
        self.file_facts_known = False
        self._wanted: set[int] = set()  # chunks asked for by this repaint
        self.state: LoadState = "idle"
        self.error = ""
        self.progress_text = ""  # "catalogued 41,000 of 120,000", from the screen
        self.creator: str | None = None  # kept for the status line and palette (a clause now)
        self.reloads = 0  # finished reloads: tests wait on it
        self._last_when_counted = False  # `G` met a capped count: the last row once counted

    # ----------------------------------------------------------------- public API

    def attach(self, cataloguing: Cataloguing) -> None:
        """Read rows from this catalogue (the screen opens it)."""
        self.cataloguing = cataloguing
        self.rows = CatalogueRows(cataloguing.window)
        self._seed_first_screen()  # read by the launcher: the first frame shows rows

    def _seed_first_screen(self) -> None:
        """An empty list of the default view shows the catalogue's first screen at once,
        when one was read ahead (Cataloguing.take_first_screen); the reload confirms it."""
        if self.cataloguing is None or self.rows.total or self.rows.search.text or self.rows.sort != Sort():
            return
        first = self.cataloguing.take_first_screen()
        if first is None:
            return
        self.rows.seed(first.rows, first.total, first.exact)
        if self.is_mounted:
            self._content_changed()  # else on_resize sizes it, before the first frame

    @property
    def current_image(self) -> ImageMetadata | None:
        return self.rows.current

    @property
    def marked_images(self) -> list[ImageMetadata]:
        """Marked images in the order they were marked."""
        return self.rows.marked_images

    @property
    def cursor(self) -> int:
        return self.rows.cursor

    @property
    def row_count(self) -> int:
        """Rows in the view (after the search)."""
        return self.rows.total

    @property
    def loaded_count(self) -> int:
        """Rows the list can reach (every catalogued row of the view)."""
        return self.rows.total

    @property
    def loaded_images(self) -> list[ImageMetadata]:
        """The rows read so far around the screen (the whole list when it is short)."""
        return [to_metadata(row) for row in self.rows.cached()]

    @property
    def filter_text(self) -> str:
        return self.rows.search.text

    @property
    def search(self) -> SearchState:
        return self.rows.search

    @property
    def sort(self) -> Sort:
        return self.rows.sort

    @property
    def load_state(self) -> LoadState:
        return self.state

    @property
    def is_complete(self) -> bool:
        return self.state == "complete"

    # Not `sort_order`: Widget.sort_order is Textual's own (it orders sibling widgets).
    @property
    def list_order(self) -> SortOrder:
        return "desc" if self.rows.sort.descending else "asc"

    @property
    def marked_count(self) -> int:
        return self.rows.marked_count

    @property
    def cursor_at_end(self) -> bool:
        return self.rows.cursor >= self.rows.total - 1

    def set_state(self, state: LoadState, error: str = "", progress: str = "") -> None:
        """What the catalogue's walk is doing (the status row under the list)."""
        self.state, self.error, self.progress_text = state, error, progress
        self._refresh_status_line()

    def show_loading_row(self) -> None:
        self.set_state("loading")

    def set_error(self, message: str) -> None:
        self.set_state("error", message)

    def reload(self, *, sort: Sort | None = None) -> None:
        """Re-read the view from the catalogue (it changed), keeping the cursor's image."""
        if sort is None:
            self._seed_first_screen()
        self._reload(sort=sort)

    async def reload_now(self) -> None:
        """Re-read the view and wait for it (the walk's last page: "complete" is said after)."""
        await self.rows.reload()
        self._view_changed()
        self.reloads += 1

    @work(group="table-reload", exclusive=True, exit_on_error=False)
    async def _reload(self, *, sort: Sort | None = None, search: str | None = None) -> None:
        if search is not None:
            state = await self.rows.set_search(search)
            self._view_changed()  # the first screen and a capped count: shown at once
            if not state.error and not self.rows.total_exact:
                self._settle()
        else:
            await self.rows.reload(sort=sort)
            self._view_changed()
        self.reloads += 1

    @work(group="table-settle", exclusive=True, exit_on_error=False)
    async def _settle(self) -> None:
        """The exact count ("10,000+" becomes a number) once typing pauses; a newer
        keystroke stops it (its SQL too), so it never delays the next screen of matches."""
        await asyncio.sleep(SETTLE_AFTER_S)
        version = self.rows.version
        await self.rows.settle()
        if version == self.rows.version and self.rows.total_exact:
            self._view_changed()

    def replace_image(self, image: ImageMetadata) -> None:
        """Show the new record of an image in place (after an edit)."""
        self._changed([image], [])

    def remove_images(self, ids: Iterable[str]) -> None:
        """Drop rows (after a delete): the cursor stays at its place, now the next row."""
        gone = list(ids)
        self.rows.forget(gone)
        self._view_changed()
        self._post_marks()
        self._changed([], gone)

    def add_images(self, images: Iterable[ImageMetadata]) -> None:
        """Show new uploads without a walk, where the sort puts them."""
        self._changed(list(images), [])

    @work(group="table-changes", exit_on_error=False)
    async def _changed(self, changed: list[ImageMetadata], gone: list[str]) -> None:
        if self.cataloguing is None:
            return
        if changed:
            await self.cataloguing.note_changed(changed)
        if gone:
            await self.cataloguing.note_deleted(gone)
        self.reload()

    def clear_marks(self) -> None:
        if self.rows.clear_marks():
            self._strips.clear()
            self.refresh()
            self._post_marks()

    def set_filter(self, text: str) -> None:
        """Search the whole catalogue (words and clauses); a bad clause changes nothing and
        shows its message in the search state."""
        if text.strip() == self.rows.search.text.strip():
            return
        self._last_when_counted = False  # another view: its own end
        self._reload(search=text)

    def move_cursor(self, row: int) -> None:
        """Put the cursor on `row` (clamped), scroll it into view and say so."""
        self._last_when_counted = False
        previous = self.rows.move_cursor(row)
        if previous != self.rows.cursor:
            self._refresh_row(previous)
            self._refresh_row(self.rows.cursor)
        self._scroll_cursor_into_view()
        self._emit_highlight()

    # ----------------------------------------------------------------- actions

    def action_cursor_up(self) -> None:
        self.move_cursor(self.cursor - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(self.cursor + 1)

    def action_page_up(self) -> None:
        self.move_cursor(self.cursor - max(self._page_rows - 1, 1))

    def action_page_down(self) -> None:
        self.move_cursor(self.cursor + max(self._page_rows - 1, 1))

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        self.move_cursor(self.row_count - 1)  # every catalogued row is reachable: no paging
        # A capped count ("10,000+": a first screen, a keystroke) is not the end: go there
        # again once the exact count is in (`_view_changed`).
        self._last_when_counted = not self.rows.total_exact

    def action_select(self) -> None:
        image = self.current_image
        if image is not None:
            self.post_message(self.Selected(self, image))

    def action_toggle_mark(self) -> None:
        if not self.rows.toggle_mark():
            return
        self._refresh_row(self.cursor)
        self._post_marks()
        self.move_cursor(self.cursor + 1)

    def action_mark_all(self) -> None:
        self._mark_all()

    @work(group="table-marks", exclusive=True, exit_on_error=False)
    async def _mark_all(self) -> None:
        beyond = await self.rows.mark_all()
        if beyond:
            self.notify(
                f"Marked the first {self.rows.marked_count:,}; {beyond:,} more are not marked.",
                severity="warning",
                markup=False,
            )
        self._strips.clear()
        self.refresh()
        self._post_marks()

    def action_clear_marks(self) -> None:
        if self.rows.marked_count:
            self.clear_marks()
        elif self.rows.search.text:
            self.set_filter("")
            self.post_message(self.FilterCleared(self))

    def action_next_match(self) -> None:
        self._step_match(True)

    def action_previous_match(self) -> None:
        self._step_match(False)

    @work(group="table-find", exclusive=True, exit_on_error=False)
    async def _step_match(self, forward: bool) -> None:
        found = await self.rows.find(forward)
        if found is not None:
            self.move_cursor(found)

    def set_columns(self, names: tuple[ColumnName, ...]) -> None:
        self.column_names = names
        self._strips.clear()
        self.refresh()

    def enable_file_facts(self) -> None:
        if not self.file_facts_known:
            self.file_facts_known = True
            self._strips.clear()
            self.refresh()

    # ----------------------------------------------------------------- rendering

    def _want(self, index: int) -> None:
        """Ask for the chunks around a row not read yet, once, batched per repaint."""
        top = int(self.scroll_offset.y)
        for k in self.rows.missing(top, top + self._page_rows):
            if k not in self._wanted:
                if not self._wanted:
                    self.call_after_refresh(self._load_wanted)
                self._wanted.add(k)

    def _load_wanted(self) -> None:
        wanted, self._wanted = sorted(self._wanted), set()
        if wanted:
            self._load_chunks(wanted)

    @work(group="table-rows", exit_on_error=False)
    async def _load_chunks(self, chunks: list[int]) -> None:
        if await self.rows.load(chunks):
            self.refresh()
            self._emit_highlight()

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        columns = layout_columns(width, self.column_names, file_facts=self.file_facts_known)
        if y == 0:
            return self._header_strip(columns, width)
        index = self.scroll_offset.y + y - 1
        total = self.rows.total
        if index < total:
            row = self.rows.row(index)
            is_cursor = index == self.rows.cursor
            if row is None:
                self._want(index)
                return self._placeholder_strip(width, is_cursor)
            marked = self.rows.is_marked(row.id)
            key = (row, width, is_cursor, marked, self.has_focus, columns.shown)
            strip = self._strips.get(key)
            if strip is None:
                strip = self._row_strip(row, columns, width, is_cursor=is_cursor, marked=marked)
                self._strips[key] = strip
            return strip
        if index == total:
            return self._status_strip(width)
        return Strip.blank(width, self._base_style)

    def _header_strip(self, columns: Columns, width: int) -> Strip:
        style = self.get_component_rich_style("image-table--header")
        sorted_style = style + self._partial("image-table--sorted")
        sort = self.rows.sort
        arrow = "▼" if sort.descending else "▲"
        segments = [Segment("  ", style)]
        for (name, cells), (title, _) in zip(columns.shown, columns.titles, strict=True):
            if not cells:
                continue
            if name == sort.column:
                segments.append(Segment(fit(f"{title} {arrow}", cells), sorted_style))
            else:
                segments.append(Segment(fit(title, cells), style))
            segments.append(Segment(" " * GAP, style))
        used = sum(segment.cell_length for segment in segments)
        segments.append(Segment(" " * max(width - used, 0), style))
        strip = Strip(segments, max(used, width))
        return strip if used <= width else strip.crop(0, width)

    def _column_at(self, x: int) -> ColumnName | None:
        width = self.scrollable_content_region.width
        columns = layout_columns(width, self.column_names, file_facts=self.file_facts_known)
        left = 2
        for name, cells in columns.shown:
            if left <= x < left + cells:
                return name
            left += cells + GAP
        return None

    def _placeholder_strip(self, width: int, is_cursor: bool) -> Strip:
        style = self._base_style + self._partial("image-table--dim")
        if is_cursor:
            style += self.get_component_rich_style("image-table--cursor")
        return Strip([Segment(fit("  " + PLACEHOLDER, width), style)], width)

    def _row_strip(
        self, row: CatalogueRow, columns: Columns, width: int, *, is_cursor: bool, marked: bool
    ) -> Strip:
        base = self._base_style
        if marked:
            base += self.get_component_rich_style("image-table--marked")
        if is_cursor:
            base += self.get_component_rich_style("image-table--cursor")
        dim = base + self.get_component_rich_style("image-table--dim", partial=True)
        gap = Segment(" " * GAP, base)
        segments = [
            Segment(
                table_layout.MARK_GLYPH + " " if marked else "  ", base + self._partial("image-table--mark")
            )
        ]
        for index, (name, cells) in enumerate(columns.shown):
            if index:
                segments.append(gap)
            style = base if name in ("id", "filename") else dim
            segments.append(Segment(fit_cell(name, cell_text(name, row, cells), cells), style))
        segments += [gap, Segment(fit(table_layout.LOCK_GLYPH if row.signed else "", LOCK_WIDTH), base)]
        used = sum(segment.cell_length for segment in segments)
        if used < width:
            segments.append(Segment(" " * (width - used), base))
        strip = Strip(segments, max(used, width))
        return strip if used <= width else strip.crop(0, width)

    def _status_strip(self, width: int) -> Strip:
        rows = self.rows
        total = rows.total
        count = f"{total:,}" + ("" if rows.total_exact else "+")
        noun = "image" if total == 1 else "images"
        component = "image-table--status"
        if self.state == "error":
            text, component = f"⚠ {clean(self.error)} · r retries", "image-table--error"
        elif rows.search.text:
            text = f"{count} match" + ("" if total == 1 else "es")
        elif self.state == "complete":
            text = f"{count} {noun} · end"
            if total == 0 and self.creator is None:
                text = "No images yet: press u to upload, or drop files on the terminal"
        elif self.state == "loading" and total == 0:
            text = "Loading…"
        else:
            text = f"{count} {noun} · {self.progress_text or 'cataloguing…'}"
        style = self._base_style + self._partial(component)
        return Strip([Segment(fit("  " + text, width), style)], width)

    def _partial(self, component: str) -> Style:
        return self.get_component_rich_style(component, partial=True)

    @property
    def _base_style(self) -> Style:
        """`rich_style` (which walks every ancestor at each call: most of a row's cost on
        the first frame), kept until Textual says the styles changed, as it does with
        its own component styles (Widget.notify_style_update clears both)."""
        if self._own_style is None:
            self._own_style = self.rich_style
        return self._own_style

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._own_style = None
        self._strips.clear()

    # ----------------------------------------------------------------- events

    def on_resize(self, event: events.Resize) -> None:
        self._strips.clear()
        self._content_changed()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            column = self._column_at(offset.x)
            if column in SORTABLE:
                self.post_message(self.SortRequested(self, column))
            return
        row = int(self.scroll_offset.y) + offset.y - 1
        if row >= self.row_count:
            return
        if row == self.cursor and event.chain >= 2:
            self.action_select()
        self.move_cursor(row)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The table's own reads: a failure goes to the App's one policy (a notification)."""
        error = event.worker.error
        if event.state == WorkerState.ERROR and error is not None:
            self.set_error(describe_failure(error))
            self.app.post_message(WorkerFailed(event.worker, error))

    # ----------------------------------------------------------------- internals

    @property
    def _page_rows(self) -> int:
        """Rows visible at once (the header line is not a row)."""
        return max(self.scrollable_content_region.height - 1, 1)

    def _view_changed(self) -> None:
        """The shown rows changed (search, sort, insert, delete, a walk): repaint, follow."""
        self._strips.clear()
        self._content_changed()
        self._scroll_cursor_into_view()
        self._emit_highlight()
        self.post_message(self.ViewChanged(self))
        if self._last_when_counted and self.rows.total_exact:
            self.move_cursor(self.rows.total - 1)
        if not _start_up_frozen and self.rows.total:
            self.call_after_refresh(freeze_start_up)

    def _content_changed(self) -> None:
        self._set_virtual_size(Size(self.scrollable_content_region.width, self.row_count + 2))
        self.refresh()
        self._emit_highlight()

    def _set_virtual_size(self, size: Size) -> None:
        """`virtual_size` is a layout reactive: every change lays out the whole screen (~40 ms
        measured on a 150x42 screen, once per search keystroke). When the scrollbar stays as
        it is (shown before and after), only the scrollbar and the scroll range change."""
        old = self.virtual_size
        if size == old:
            return
        visible = self.container_size.height
        if old.width == size.width and old.height > visible and size.height > visible:
            self.set_reactive(ImageTable.virtual_size, size)
            self._scroll_update(size)
        else:
            self.virtual_size = size

    def _refresh_row(self, index: int) -> None:
        self.refresh_line(index + 1)

    def _refresh_status_line(self) -> None:
        self.refresh_line(self.row_count + 1)

    def _scroll_cursor_into_view(self) -> None:
        top = int(self.scroll_target_y)
        rows = self._page_rows
        cursor = self.cursor
        if cursor < top:
            target = cursor
        elif cursor >= top + rows:
            target = cursor - rows + 1
        else:
            return
        self.scroll_to(y=target, animate=False, immediate=True)

    def _emit_highlight(self) -> None:
        row = self.rows.current_row
        image_id = row.id if row is not None else None
        if image_id != self._last_highlight:
            self._last_highlight = image_id
            self.post_message(self.Highlighted(self, row))

    def _post_marks(self) -> None:
        self.post_message(self.MarksChanged(self, self.rows.marked_count))
