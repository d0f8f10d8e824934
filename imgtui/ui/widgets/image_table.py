"""The image list: a line-API ScrollView that stays smooth with 100,000 loaded rows.

Only the visible lines are ever formatted (`render_line`), and formatted rows are kept in an
LRU of Strips, so the cost of a repaint does not grow with the number of rows (the stock
DataTable measures every cell and takes tens of seconds at 100k).

The table holds no I/O: it shows what the screen gives it (`append_page`) and posts
`NeedMore` when the cursor or the scroll position nears the end of the loaded rows.
Line 0 is a sticky column header; the line after the last row tells the paging state.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from typing import ClassVar, Literal

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from imgtui.service import ImageMetadata
from imgtui.ui.widgets.table_layout import (
    GAP,
    LOCK_GLYPH,
    LOCK_WIDTH,
    MARK_GLYPH,
    Columns,
    clean,
    fit,
    format_uploaded,
    layout_columns,
)

LoadState = Literal["idle", "loading", "complete", "error"]
SortOrder = Literal["asc", "desc"]


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
        self._rows: list[ImageMetadata] = []  # every loaded image, in server order
        self._positions: dict[str, int] = {}  # image id -> index in _rows
        self._view: list[ImageMetadata] = self._rows  # what is shown: _rows, or the filter's matches
        self._search_keys: list[str] | None = None  # lowercased "id\nfilename", built on first filter
        self._filter = ""
        self._marked: set[str] = set()
        self._cursor = 0
        self._state: LoadState = "idle"
        self._error = ""
        self._more_requested = False
        self._last_highlight: str | None = None
        # Not `sort_order`: Widget.sort_order is Textual's own (it orders sibling widgets).
        self.list_order: SortOrder = "desc"
        self.creator: str | None = None
        self._strips: LRUCache[tuple, Strip] = LRUCache(1024)

    # ----------------------------------------------------------------- public API

    @property
    def current_image(self) -> ImageMetadata | None:
        if 0 <= self._cursor < len(self._view):
            return self._view[self._cursor]
        return None

    @property
    def marked_images(self) -> list[ImageMetadata]:
        """Marked images in list order."""
        if not self._marked:
            return []
        return [image for image in self._rows if image.id in self._marked]

    @property
    def cursor(self) -> int:
        return self._cursor

    @property
    def row_count(self) -> int:
        """Rows shown (after the quick filter)."""
        return len(self._view)

    @property
    def loaded_count(self) -> int:
        return len(self._rows)

    @property
    def loaded_images(self) -> list[ImageMetadata]:
        return list(self._rows)

    @property
    def filter_text(self) -> str:
        return self._filter

    @property
    def load_state(self) -> LoadState:
        return self._state

    @property
    def is_complete(self) -> bool:
        return self._state == "complete"

    def reset(self, *, sort_order: SortOrder, creator: str | None) -> None:
        """Forget every row (a new query starts); marks go too, the filter text stays."""
        self.list_order = sort_order
        self.creator = creator
        self._rows = []
        self._positions = {}
        self._search_keys = None
        self._view = self._rows
        self._marked.clear()
        self._cursor = 0
        self._state = "idle"
        self._error = ""
        self._more_requested = False
        self._strips.clear()
        self._content_changed()
        self.scroll_to(y=0, animate=False, immediate=True)
        self._post_marks()

    def append_page(self, images: Iterable[ImageMetadata], *, complete: bool) -> int:
        """Add one page at the end (ids already listed are skipped); returns rows added."""
        fresh = [image for image in images if image.id not in self._positions]
        start = len(self._rows)
        for offset, image in enumerate(fresh):
            self._positions[image.id] = start + offset
        self._rows.extend(fresh)
        if self._search_keys is not None:
            self._search_keys.extend(_search_key(image) for image in fresh)
        if self._filter:
            self._view.extend(image for image in fresh if self._matches(image))
        self._state = "complete" if complete else "idle"
        self._error = ""
        self._more_requested = False
        self._content_changed()
        # Keep a screen of rows beyond the viewport: a page that does not reach that far
        # (or a first page shorter than the screen) asks for the next one straight away.
        self.call_after_refresh(self._check_near_end)
        return len(fresh)

    def show_loading_row(self) -> None:
        """The "Loading…" status row under the list (not Textual's `loading` overlay)."""
        self._state = "loading"
        self._error = ""
        self._refresh_status_line()

    def set_error(self, message: str) -> None:
        self._state = "error"
        self._error = message
        self._more_requested = False
        self._refresh_status_line()

    def replace_image(self, image: ImageMetadata) -> None:
        """Show the new record of an image in place (after an edit); unknown ids are ignored."""
        index = self._positions.get(image.id)
        if index is None:
            return
        self._rows[index] = image
        if self._search_keys is not None:
            self._search_keys[index] = _search_key(image)
        if self._view is not self._rows:
            for view_index, shown in enumerate(self._view):
                if shown.id == image.id:
                    self._view[view_index] = image
                    break
        self._strips.clear()
        self.refresh()

    def remove_images(self, ids: Iterable[str]) -> None:
        """Drop rows (after a delete). The cursor moves to the next row, or the previous at the end."""
        gone = set(ids) & self._positions.keys()
        if not gone:
            return
        current = self.current_image
        if current is not None and current.id in gone:
            # The first surviving row at or after the cursor takes its place.
            after = [image for image in self._view[self._cursor :] if image.id not in gone]
            before = [image for image in self._view[: self._cursor] if image.id not in gone]
            keep = after[0].id if after else (before[-1].id if before else None)
        else:
            keep = current.id if current else None
        self._rows = [image for image in self._rows if image.id not in gone]
        self._marked -= gone
        self._rebuild_indexes()
        self._rebuild_view(keep)
        self._post_marks()

    def add_images(self, images: Iterable[ImageMetadata]) -> None:
        """Show new uploads without reloading, where the current sort order puts them.

        Newest-first: at the top. Oldest-first: at the end once every page is loaded; before
        that, a new upload belongs after rows not loaded yet, so paging will bring it.
        """
        keep = self.current_image.id if self.current_image else None
        added = False
        for image in images:
            if image.id in self._positions:
                self.replace_image(image)
                continue
            if self.creator is not None and image.creator != self.creator:
                continue
            index = self._insertion_index(image)
            if index == len(self._rows) and not self.is_complete:
                continue
            self._rows.insert(index, image)
            added = True
        if added:
            self._rebuild_indexes()
            self._rebuild_view(keep)

    def clear_marks(self) -> None:
        if self._marked:
            self._marked.clear()
            self._strips.clear()
            self.refresh()
            self._post_marks()

    def set_filter(self, text: str) -> None:
        """Show only loaded rows whose id or filename contains `text` (any case)."""
        query = text.strip().lower()
        if query == self._filter:
            return
        keep = self.current_image.id if self.current_image else None
        self._filter = query
        if not query:
            self._view = self._rows
        else:
            # One pass over the cached keys, even when narrowing: rebuilding each row's key
            # to re-test only the current matches was 4x slower at 100k rows.
            if self._search_keys is None:
                self._search_keys = [_search_key(image) for image in self._rows]
            rows = self._rows
            self._view = [rows[i] for i, key in enumerate(self._search_keys) if query in key]
        self._rebuild_view(keep, refilter=False)

    def move_cursor(self, row: int) -> None:
        """Put the cursor on `row` (clamped), scroll it into view and say so."""
        last = len(self._view) - 1
        row = max(0, min(row, last)) if last >= 0 else 0
        if row != self._cursor:
            self._refresh_row(self._cursor)
            self._cursor = row
            self._refresh_row(row)
        self._scroll_cursor_into_view()
        self._emit_highlight()
        self._check_near_end(user_moved=True)

    # ----------------------------------------------------------------- actions

    def action_cursor_up(self) -> None:
        self.move_cursor(self._cursor - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(self._cursor + 1)

    def action_page_up(self) -> None:
        self.move_cursor(self._cursor - max(self._page_rows - 1, 1))

    def action_page_down(self) -> None:
        self.move_cursor(self._cursor + max(self._page_rows - 1, 1))

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        self.move_cursor(len(self._view) - 1)
        if self._state != "complete":
            self.post_message(self.WantsEnd(self))

    @property
    def marked_count(self) -> int:
        """Every marked id is a loaded row (reset and remove_images drop the others)."""
        return len(self._marked)

    @property
    def cursor_at_end(self) -> bool:
        return self._cursor >= len(self._view) - 1

    def action_select(self) -> None:
        image = self.current_image
        if image is not None:
            self.post_message(self.Selected(self, image))

    def action_toggle_mark(self) -> None:
        image = self.current_image
        if image is None:
            return
        if image.id in self._marked:
            self._marked.discard(image.id)
        else:
            self._marked.add(image.id)
        self._refresh_row(self._cursor)
        self._post_marks()
        self.move_cursor(self._cursor + 1)

    def action_mark_all(self) -> None:
        self._marked.update(image.id for image in self._view)
        self._strips.clear()
        self.refresh()
        self._post_marks()

    def action_clear_marks(self) -> None:
        if self._marked:
            self.clear_marks()
        elif self._filter:
            self.set_filter("")
            self.post_message(self.FilterCleared(self))

    # ----------------------------------------------------------------- rendering

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        columns = layout_columns(width)
        if y == 0:
            return self._header_strip(columns, width)
        index = self.scroll_offset.y + y - 1
        if index < len(self._view):
            image = self._view[index]
            is_cursor = index == self._cursor
            marked = image.id in self._marked
            key = (image.id, width, is_cursor, marked, self.has_focus)
            strip = self._strips.get(key)
            if strip is None:
                strip = self._row_strip(image, columns, width, is_cursor=is_cursor, marked=marked)
                self._strips[key] = strip
            return strip
        if index == len(self._view):
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
        self, image: ImageMetadata, columns: Columns, width: int, *, is_cursor: bool, marked: bool
    ) -> Strip:
        base = self.rich_style
        if marked:
            base += self.get_component_rich_style("image-table--marked")
        if is_cursor:
            base += self.get_component_rich_style("image-table--cursor")
        dim = base + self.get_component_rich_style("image-table--dim", partial=True)
        gap = Segment(" " * GAP, base)
        segments = [
            Segment(MARK_GLYPH + " " if marked else "  ", base + self._partial("image-table--mark")),
            Segment(fit(clean(image.id), columns.id), base),
            gap,
            Segment(fit(clean(image.filename), columns.filename), base),
        ]
        if columns.uploaded:
            segments += [
                gap,
                Segment(fit(format_uploaded(image.uploaded, columns.uploaded), columns.uploaded), dim),
            ]
        if columns.creator:
            segments += [gap, Segment(fit(clean(image.creator) or "—", columns.creator), dim)]
        segments += [
            gap,
            Segment(fit(LOCK_GLYPH if image.require_signed_urls else "", LOCK_WIDTH), base),
        ]
        used = sum(segment.cell_length for segment in segments)
        if used < width:
            segments.append(Segment(" " * (width - used), base))
        strip = Strip(segments, max(used, width))
        return strip if used <= width else strip.crop(0, width)

    def _status_strip(self, width: int) -> Strip:
        shown, loaded = len(self._view), len(self._rows)
        matching = f"{shown} of {loaded} loaded match" if self._filter else ""
        if self._state == "loading":
            text, component = "Loading…", "image-table--status"
        elif self._state == "error":
            text, component = f"⚠ {self._error} · r retries", "image-table--error"
        elif self._state == "complete":
            noun = "image" if loaded == 1 else "images"
            text = f"{matching} · end" if self._filter else f"{loaded} {noun} · end"
            if loaded == 0 and self.creator is None:
                text = "No images yet: press u to upload, or drop files on the terminal"
            component = "image-table--status"
        else:
            text = f"{matching} · ↓ loads more" if self._filter else f"{loaded} loaded · more below"
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
        if row >= len(self._view):
            return
        if row == self._cursor and event.chain >= 2:
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

    def _matches(self, image: ImageMetadata) -> bool:
        return self._filter in _search_key(image)

    def _insertion_index(self, image: ImageMetadata) -> int:
        if self.list_order == "desc":
            # Newest first: rows are in descending time, so search on the negated timestamp.
            stamp = -image.uploaded.timestamp()
            return bisect.bisect_right(self._rows, stamp, key=lambda row: -row.uploaded.timestamp())
        stamp = image.uploaded.timestamp()
        return bisect.bisect_right(self._rows, stamp, key=lambda row: row.uploaded.timestamp())

    def _rebuild_indexes(self) -> None:
        self._positions = {image.id: index for index, image in enumerate(self._rows)}
        self._search_keys = None

    def _rebuild_view(self, keep_id: str | None, *, refilter: bool = True) -> None:
        """Recompute the shown rows and put the cursor back on `keep_id` when it is still shown."""
        if refilter:
            if self._filter:
                self._view = [image for image in self._rows if self._matches(image)]
            else:
                self._view = self._rows
        cursor = self._cursor
        if keep_id is not None:
            if self._view is self._rows:
                cursor = self._positions.get(keep_id, cursor)
            else:
                cursor = next((i for i, image in enumerate(self._view) if image.id == keep_id), cursor)
        self._cursor = max(0, min(cursor, len(self._view) - 1))
        self._strips.clear()
        self._content_changed()
        self._scroll_cursor_into_view()
        self._emit_highlight()

    def _content_changed(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, len(self._view) + 2)
        if self._cursor >= len(self._view):
            self._cursor = max(len(self._view) - 1, 0)
        self.refresh()
        self._emit_highlight()

    def _refresh_row(self, index: int) -> None:
        self.refresh_line(index + 1)

    def _refresh_status_line(self) -> None:
        self.refresh_line(len(self._view) + 1)

    def _scroll_cursor_into_view(self) -> None:
        top = int(self.scroll_target_y)
        rows = self._page_rows
        if self._cursor < top:
            target = self._cursor
        elif self._cursor >= top + rows:
            target = self._cursor - rows + 1
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
        if self._state != "idle" or self._more_requested:
            return
        if self._filter:
            # A short filtered list is always "near the end": only a key press on its last
            # row pages then, so a filter never quietly pulls in every page.
            near = user_moved and self._cursor >= len(self._view) - 1
        else:
            bottom = int(self.scroll_offset.y) + self._page_rows
            near = (
                self._cursor >= len(self._view) - self._page_rows
                or bottom >= len(self._view) - self._page_rows
            )
        if near:
            self._more_requested = True
            self.post_message(self.NeedMore(self))

    def _post_marks(self) -> None:
        self.post_message(self.MarksChanged(self, len(self._marked)))


def _search_key(image: ImageMetadata) -> str:
    return f"{image.id}\n{image.filename or ''}".lower()
