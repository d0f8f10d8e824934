"""The image list: a line-API ScrollView that stays smooth with 100,000 loaded rows.

Only the visible lines are ever formatted (`render_line`), and formatted rows are kept in an
LRU of Strips, so the cost of a repaint does not grow with the number of rows (the stock
DataTable measures every cell and takes tens of seconds at 100k).

The table holds no I/O: it shows what the screen gives it (`append_page`) and posts
`NeedMore` when the cursor or the scroll position nears the end of the loaded rows.
Line 0 is a sticky column header; the line after the last row tells the paging state.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from imgtui.common.sizes import human_size
from imgtui.service import ImageMetadata
from imgtui.service.models import FileInfo
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
from imgtui.workflows.image_rows import ImageRows, LoadState, SortOrder

__all__ = ["ImageTable", "LoadState", "SortOrder"]


def cell_text(name: ColumnName, image: ImageMetadata, facts: FileInfo | None, cells: int) -> str:
    """One cell's text, before fitting; file columns are blank until their facts arrive."""
    if name == "id":
        return clean(image.id)
    if name == "filename":
        return clean(image.filename)
    if name == "uploaded":
        return format_uploaded(image.uploaded, cells)
    if name == "creator":
        return clean(image.creator) or "—"
    if facts is None:
        return ""
    if name == "size":
        return human_size(facts.size)
    if name == "dimensions":
        return f"{facts.width}\u00d7{facts.height}" if facts.width and facts.height else ""
    return clean(facts.content_type.removeprefix("image/").upper().replace("SVG+XML", "SVG"))


class TableMessage(Message):
    """A message from an ImageTable; `control` lets handlers use `@on(..., "#id")`."""

    def __init__(self, table: ImageTable) -> None:
        super().__init__()
        self.table = table

    @property
    def control(self) -> ImageTable:
        return self.table


class ImageTable(ScrollView, can_focus=True):
    """Loaded images, a cursor, marks, and a quick filter over the loaded rows."""

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
            tooltip="Last image (loads all pages)",
        ),
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
            tooltip="Mark every listed image",
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

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "image-table--header",
        "image-table--cursor",
        "image-table--marked",
        "image-table--mark",
        "image-table--dim",
        "image-table--lock",
        "image-table--status",
        "image-table--error",
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
    }
    """

    class Highlighted(TableMessage):
        """The image under the cursor changed (None: the list is empty)."""

        def __init__(self, table: ImageTable, image: ImageMetadata | None) -> None:
            super().__init__(table)
            self.image = image

    class Selected(TableMessage):
        """Enter or a click on the highlighted row: the screen offers the row's actions."""

        def __init__(self, table: ImageTable, image: ImageMetadata) -> None:
            super().__init__(table)
            self.image = image

    class NeedMore(TableMessage):
        """The cursor or the viewport is near the end of the loaded rows."""

    class NeedFileFacts(TableMessage):
        """Rows on screen whose size, pixels and type are not known yet (`ids`)."""

        def __init__(self, table: ImageTable, ids: list[str]) -> None:
            super().__init__(table)
            self.ids = ids

    class WantsEnd(TableMessage):
        """`G`/End while more pages exist: the user wants the real last image."""

    class FilterCleared(TableMessage):
        """Escape on the list cleared the quick filter (the screen hides its filter box)."""

    class MarksChanged(TableMessage):
        def __init__(self, table: ImageTable, count: int) -> None:
            super().__init__(table)
            self.count = count

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:  # noqa: A002
        super().__init__(name=name, id=id, classes=classes)
        self.rows = ImageRows()  # the model: this widget only renders it and forwards keys
        self._more_requested = False
        self._last_highlight: str | None = None
        self._strips: LRUCache[tuple, Strip] = LRUCache(1024)
        self.column_names: tuple[ColumnName, ...] = DEFAULT_COLUMNS  # the config's choice and order
        # The file columns show once the screen found that the backend knows the facts.
        self.file_facts_known = False
        self._facts: dict[str, FileInfo | None] = {}  # None: asked, no answer (yet)
        self._facts_wanted: list[str] = []

    # ----------------------------------------------------------------- public API

    @property
    def current_image(self) -> ImageMetadata | None:
        return self.rows.current

    @property
    def marked_images(self) -> list[ImageMetadata]:
        """Marked images in list order."""
        return self.rows.marked_images

    @property
    def cursor(self) -> int:
        return self.rows.cursor

    @property
    def row_count(self) -> int:
        """Rows shown (after the quick filter)."""
        return len(self.rows.view)

    @property
    def loaded_count(self) -> int:
        return len(self.rows.rows)

    @property
    def loaded_images(self) -> list[ImageMetadata]:
        return list(self.rows.rows)

    @property
    def filter_text(self) -> str:
        return self.rows.filter_text

    @property
    def load_state(self) -> LoadState:
        return self.rows.state

    @property
    def is_complete(self) -> bool:
        return self.rows.is_complete

    # Not `sort_order`: Widget.sort_order is Textual's own (it orders sibling widgets).
    @property
    def list_order(self) -> SortOrder:
        return self.rows.sort_order

    @property
    def creator(self) -> str | None:
        return self.rows.creator

    @property
    def marked_count(self) -> int:
        return self.rows.marked_count

    @property
    def cursor_at_end(self) -> bool:
        return self.rows.cursor_at_end

    def reset(self, *, sort_order: SortOrder, creator: str | None) -> None:
        """Forget every row (a new query starts); marks go too, the filter text stays."""
        self.rows.reset(sort_order=sort_order, creator=creator)
        self._more_requested = False
        self._strips.clear()
        self._content_changed()
        self.scroll_to(y=0, animate=False, immediate=True)
        self._post_marks()

    def append_page(self, images: Iterable[ImageMetadata], *, complete: bool) -> int:
        """Add one page at the end (ids already listed are skipped); returns rows added."""
        added = self.rows.append_page(images, complete=complete)
        self._more_requested = False
        self._content_changed()
        # Keep a screen of rows beyond the viewport: a page that does not reach that far
        # (or a first page shorter than the screen) asks for the next one straight away.
        self.call_after_refresh(self._check_near_end)
        return added

    def show_loading_row(self) -> None:
        """The "Loading…" status row under the list (not Textual's `loading` overlay)."""
        self.rows.set_loading()
        self._refresh_status_line()

    def set_error(self, message: str) -> None:
        self.rows.set_error(message)
        self._more_requested = False
        self._refresh_status_line()

    def replace_image(self, image: ImageMetadata) -> None:
        """Show the new record of an image in place (after an edit); unknown ids are ignored."""
        if self.rows.replace(image):
            self._strips.clear()
            self.refresh()

    def remove_images(self, ids: Iterable[str]) -> None:
        """Drop rows (after a delete). The cursor moves to the next row, or the previous at the end."""
        if self.rows.remove(ids):
            self._view_changed()
            self._post_marks()

    def add_images(self, images: Iterable[ImageMetadata]) -> None:
        """Show new uploads without reloading, where the current sort order puts them."""
        if self.rows.add(images):
            self._view_changed()
        else:
            self._strips.clear()  # a known id may have been replaced in place
            self.refresh()

    def clear_marks(self) -> None:
        if self.rows.clear_marks():
            self._strips.clear()
            self.refresh()
            self._post_marks()

    def set_filter(self, text: str) -> None:
        """Show only loaded rows whose id or filename contains `text` (any case)."""
        if self.rows.set_filter(text):
            self._view_changed()

    def move_cursor(self, row: int) -> None:
        """Put the cursor on `row` (clamped), scroll it into view and say so."""
        previous = self.rows.move_cursor(row)
        if previous != self.rows.cursor:
            self._refresh_row(previous)
            self._refresh_row(self.rows.cursor)
        self._scroll_cursor_into_view()
        self._emit_highlight()
        self._check_near_end(user_moved=True)

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
        self.move_cursor(self.row_count - 1)
        if self.rows.state != "complete":
            self.post_message(self.WantsEnd(self))

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
        self.rows.mark_all()
        self._strips.clear()
        self.refresh()
        self._post_marks()

    def action_clear_marks(self) -> None:
        if self.rows.marked_count:
            self.clear_marks()
        elif self.rows.filter_text:
            self.set_filter("")
            self.post_message(self.FilterCleared(self))

    def set_columns(self, names: tuple[ColumnName, ...]) -> None:
        self.column_names = names
        self._strips.clear()
        self.refresh()

    def enable_file_facts(self) -> None:
        if not self.file_facts_known:
            self.file_facts_known = True
            self._strips.clear()
            self.refresh()

    def add_file_facts(self, facts: dict[str, FileInfo | None]) -> None:
        """What the screen fetched for NeedFileFacts: repaint the rows that changed."""
        self._facts.update(facts)
        self.refresh()

    # ----------------------------------------------------------------- rendering

    def _want_facts(self, image_id: str) -> None:
        """Ask the screen for a row's file facts, once, batched per repaint."""
        self._facts[image_id] = None
        if not self._facts_wanted:
            self.call_after_refresh(self._post_facts_wanted)
        self._facts_wanted.append(image_id)

    def _post_facts_wanted(self) -> None:
        wanted, self._facts_wanted = self._facts_wanted, []
        if wanted:
            self.post_message(self.NeedFileFacts(self, wanted))

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        columns = layout_columns(width, self.column_names, file_facts=self.file_facts_known)
        if y == 0:
            return self._header_strip(columns, width)
        index = self.scroll_offset.y + y - 1
        view = self.rows.view
        if index < len(view):
            image = view[index]
            is_cursor = index == self.rows.cursor
            marked = self.rows.is_marked(image.id)
            facts: FileInfo | None = None
            if columns.has_file_columns:
                if image.id not in self._facts:
                    self._want_facts(image.id)
                facts = self._facts.get(image.id)
            key = (image.id, width, is_cursor, marked, self.has_focus, facts is not None)
            strip = self._strips.get(key)
            if strip is None:
                strip = self._row_strip(
                    image, columns, width, is_cursor=is_cursor, marked=marked, facts=facts
                )
                self._strips[key] = strip
            return strip
        if index == len(view):
            return self._status_strip(width)
        return Strip.blank(width, self.rich_style)

    def _header_strip(self, columns: Columns, width: int) -> Strip:
        style = self.get_component_rich_style("image-table--header")
        segments = [Segment("  ", style)]
        for title, cells in columns.titles:
            if cells:
                segments += [Segment(fit(title, cells), style), Segment(" " * GAP, style)]
        used = sum(segment.cell_length for segment in segments)
        segments.append(Segment(" " * max(width - used, 0), style))
        strip = Strip(segments, max(used, width))
        return strip if used <= width else strip.crop(0, width)

    def _row_strip(
        self,
        image: ImageMetadata,
        columns: Columns,
        width: int,
        *,
        is_cursor: bool,
        marked: bool,
        facts: FileInfo | None = None,
    ) -> Strip:
        base = self.rich_style
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
            segments.append(Segment(fit_cell(name, cell_text(name, image, facts, cells), cells), style))
        segments += [
            gap,
            Segment(fit(table_layout.LOCK_GLYPH if image.require_signed_urls else "", LOCK_WIDTH), base),
        ]
        used = sum(segment.cell_length for segment in segments)
        if used < width:
            segments.append(Segment(" " * (width - used), base))
        strip = Strip(segments, max(used, width))
        return strip if used <= width else strip.crop(0, width)

    def _status_strip(self, width: int) -> Strip:
        rows = self.rows
        shown, loaded = len(rows.view), len(rows.rows)
        matching = f"{shown} of {loaded} loaded match" if rows.filter_text else ""
        if rows.state == "loading":
            text, component = "Loading…", "image-table--status"
        elif rows.state == "error":
            text, component = f"⚠ {clean(rows.error)} · r retries", "image-table--error"
        elif rows.state == "complete":
            noun = "image" if loaded == 1 else "images"
            text = f"{matching} · end" if rows.filter_text else f"{loaded} {noun} · end"
            if loaded == 0 and rows.creator is None:
                text = "No images yet: press u to upload, or drop files on the terminal"
            component = "image-table--status"
        else:
            text = f"{matching} · ↓ loads more" if rows.filter_text else f"{loaded} loaded · more below"
            component = "image-table--status"
        style = self.rich_style + self._partial(component)
        return Strip([Segment(fit("  " + text, width), style)], width)

    def _partial(self, component: str) -> Style:
        return self.get_component_rich_style(component, partial=True)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()

    # ----------------------------------------------------------------- events

    def on_resize(self, event: events.Resize) -> None:
        self._strips.clear()
        self._content_changed()
        self._check_near_end()  # a taller window shows more rows: it may need the next page

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y == 0:
            return
        row = int(self.scroll_offset.y) + offset.y - 1
        if row >= self.row_count:
            return
        if row == self.cursor and event.chain >= 2:
            self.action_select()
        self.move_cursor(row)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        # The wheel and the scrollbar move the view without the cursor: page from here too.
        self._check_near_end()

    # ----------------------------------------------------------------- internals

    @property
    def _page_rows(self) -> int:
        """Rows visible at once (the header line is not a row)."""
        return max(self.scrollable_content_region.height - 1, 1)

    def _view_changed(self) -> None:
        """The shown rows changed (filter, insert, delete): repaint and follow the cursor."""
        self._strips.clear()
        self._content_changed()
        self._scroll_cursor_into_view()
        self._emit_highlight()

    def _content_changed(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, self.row_count + 2)
        self.rows.clamp_cursor()
        self.refresh()
        self._emit_highlight()

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
        image = self.current_image
        image_id = image.id if image else None
        if image_id != self._last_highlight:
            self._last_highlight = image_id
            self.post_message(self.Highlighted(self, image))

    def _check_near_end(self, *, user_moved: bool = False) -> None:
        """Post NeedMore when the cursor or the viewport is within a screen of the end."""
        if self.rows.state != "idle" or self._more_requested:
            return
        shown = self.row_count
        if self.rows.filter_text:
            # A short filtered list is always "near the end": only a key press on its last
            # row pages then, so a filter never quietly pulls in every page.
            near = user_moved and self.cursor >= shown - 1
        else:
            bottom = int(self.scroll_offset.y) + self._page_rows
            near = self.cursor >= shown - self._page_rows or bottom >= shown - self._page_rows
        if near:
            self._more_requested = True
            self.post_message(self.NeedMore(self))

    def _post_marks(self) -> None:
        self.post_message(self.MarksChanged(self, self.rows.marked_count))
