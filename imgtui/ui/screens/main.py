"""The main screen: the image list on the left, the details panel (and preview) on the right.

The screen owns the I/O of browsing: it opens the catalogue of what is open, keeps it up to
date in the background (a walk, page by page, with its progress in the status line), and
turns every ImagesError into a notification. The list reads its rows from the catalogue.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, ClassVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Header, Input, Static
from textual.worker import Worker

from imgtui.common.text import safe_text
from imgtui.service import Images, ImagesError
from imgtui.ui.config import UiConfig
from imgtui.ui.screens.editing import EDIT_BINDINGS, ROW_ACTIONS, EditingActions
from imgtui.ui.screens.grid_view import GRID_BINDINGS, VIEW_FULL_ACTION, GridView
from imgtui.ui.widgets.details import DetailsPanel
from imgtui.ui.widgets.image_table import SORTABLE, ImageTable, SortOrder
from imgtui.ui.widgets.preview import PreviewMode
from imgtui.ui.widgets.quiet_footer import QuietFooter
from imgtui.ui.widgets.table_layout import TITLES, ColumnName, parse_columns
from imgtui.ui.worker_errors import ForwardsWorkerErrors, describe_failure
from imgtui.workflows.catalogue_rows import Sort, row_is_stale
from imgtui.workflows.cataloguing import Cataloguing, server_filter

if TYPE_CHECKING:
    from imgtui.ui.screens.choices import Choice

# The menus (imgtui.ui.screens.choices: OptionList and its styles) are imported when one
# opens: the launch does not need them.

SORT_LABELS = {"desc": "newest first", "asc": "oldest first"}
# A walk's page reloads the view at most this often (a reload recounts and finds the cursor).
RELOAD_EVERY_S = 0.5


def sort_label(sort: Sort) -> str:
    if sort.column == "uploaded":
        return SORT_LABELS["desc" if sort.descending else "asc"]
    return f"by {TITLES[sort.column].lower()} {'▼' if sort.descending else '▲'}"


def _breakpoint_class(breakpoints: list[tuple[int, str]], width: int) -> str | None:
    """The class Textual's resize gives a screen `width` cells wide (Screen._on_resize)."""
    for at, name in sorted(breakpoints, reverse=True):
        if width >= at:
            return name
    return None


class MainScreen(ForwardsWorkerErrors, GridView, EditingActions, Screen[None]):
    """Browse (list, search, sort, details) and edit (the forms in screens/editing.py)."""

    BINDING_GROUP_TITLE = "Browse"
    # Below 76 columns the list and the details panel (min widths 40 and 34) cannot share
    # the width: the details panel goes, rather than the list overflowing its border.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (76, "-normal")]
    AUTO_FOCUS = "#images"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "slash",
            "quick_filter",
            "Search",
            id="find.filter",
            tooltip="Search every image: words, creator:NAME, meta.KEY=VALUE, format:png…",
        ),
        Binding(
            "s",
            "toggle_sort",
            "Sort",
            id="find.sort",
            tooltip="Newest first / oldest first: flips the sort direction",
        ),
        Binding("S", "choose_sort", "Sort by", show=False, id="find.sort_by", tooltip="Sort by a column"),
        Binding(
            "c", "creator_filter", "Creator", id="find.creator", tooltip="List only one creator's images"
        ),
        Binding(
            "r",
            "refresh",
            "Refresh",
            show=False,
            id="view.refresh",
            tooltip="Walk the whole list again and retry the current image",
        ),
        Binding("y", "copy", "Copy", id="copy.menu", tooltip="Copy the id or a delivery URL"),
        Binding(
            "v",
            "toggle_preview",
            "Preview",
            show=False,
            id="view.preview",
            tooltip="Show or hide the image preview",
        ),
        Binding(
            "i",
            "toggle_details",
            "Details",
            show=False,
            id="view.details",
            tooltip="Show or hide the details panel (the list takes the whole width)",
        ),
        *EDIT_BINDINGS,
        *GRID_BINDINGS,
    ]

    def __init__(self, images: Images, *, preview_mode: PreviewMode = "off", demo: bool = False) -> None:
        super().__init__(id="main")
        # The width's breakpoint class from the start: set by the first resize instead, it
        # restyles every widget of the screen once more before the first frame.
        try:
            width = self.app.size.width
        except RuntimeError:  # no app is running yet (NoActiveAppError): the resize sets it
            width = None
        if width is not None and (name := _breakpoint_class(self.HORIZONTAL_BREAKPOINTS, width)):
            self.add_class(name, update=False)
        self.images = images
        self.preview_mode = preview_mode
        self.demo = demo
        self.cataloguing = Cataloguing(images)
        self.creator: str | None = None
        self._walk_worker: Worker | None = None
        self._progress = ""
        self._where_ran = ""  # which parts of the search ran on the server
        self._last_reload = 0.0
        self._resumed = False
        self._quick_filter = Input(
            placeholder="search: words, creator:NAME, meta.KEY=VALUE, -word", id="quick-filter"
        )
        self._quick_filter.display = False

    @property
    def list_order(self) -> SortOrder:
        return self.table.list_order

    # ----------------------------------------------------------------- layout

    def compose(self) -> ComposeResult:
        yield Header(icon="▣")
        with Horizontal(id="browser"):
            with Vertical(id="list-pane"):
                yield ImageTable(id="images")
                yield Static(id="search-note")
            config = getattr(self.app, "config", None)
            shown = config.preview_shown if isinstance(config, UiConfig) else True
            yield DetailsPanel(self.images, preview_mode=self.preview_mode, preview_shown=shown, id="details")
        yield Static(id="status")
        yield QuietFooter()

    @property
    def table(self) -> ImageTable:
        return self.query_one("#images", ImageTable)

    @property
    def list_pane(self) -> Widget:
        return self.query_one("#list-pane")

    @property
    def details(self) -> DetailsPanel:
        return self.query_one("#details", DetailsPanel)

    @property
    def quick_filter(self) -> Input:
        """The search field, hidden until `/` (mounted when first asked for, at the latest)."""
        self._mount_quick_filter()
        return self._quick_filter

    def _mount_quick_filter(self) -> None:
        """Mounted just after the first frame, not in it: an Input's mount and styles were
        ~8% of the work before the first frame, for a field that is hidden there."""
        field = self._quick_filter
        if not field.is_attached and self.is_attached:
            self.query_one("#list-pane").mount(field, after="#images")

    def on_mount(self) -> None:
        note = getattr(self.app, "credentials_note", "")
        label = f"{self.images.label} · {note}" if note else self.images.label
        self.sub_title = safe_text(label)  # the header shows it as plain text
        config = getattr(self.app, "config", None)
        if isinstance(config, UiConfig):
            self.table.set_columns(parse_columns(config.columns))
            self.set_class(not config.details_shown, "-no-details")
        self.query_one("#list-pane").border_title = "Images"
        self.call_after_refresh(self._mount_quick_filter)
        self.query_one("#search-note", Static).display = False
        self.table.attach(self.cataloguing)
        if isinstance(config, UiConfig) and config.view == "grid":
            self.set_view("grid")
        self._update_status()
        self._start()

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        # Runs before Screen's own handler (subclass first). On the first resume every
        # widget was styled as it mounted: restyling the whole screen again before the first
        # frame is a third of the styling work of the launch. Later resumes (back from a
        # form, a theme changed meanwhile) restyle as Textual does.
        if not self._resumed:
            self._resumed = True
            event.refresh_styles = False

    async def on_unmount(self) -> None:
        await self.close_grid()
        await self.cataloguing.aclose()

    # ----------------------------------------------------------------- the catalogue

    @work(group="catalogue-open", exit_on_error=False)
    async def _start(self) -> None:
        await self.cataloguing.open()
        self.table.reload()  # the last catalogue, at once
        if self.demo:
            await self._fill_demo()
        self.reload()

    def reload(self, *, full: bool = False) -> None:
        """Bring the catalogue up to date in the background (a full walk with `full`)."""
        if self._walk_worker is not None and self._walk_worker.is_running:
            if not full:
                return
            self._walk_worker.cancel()
        self.table.show_loading_row()
        self._walk_worker = self._walk(full)

    @work(group="catalogue-walk", exit_on_error=False)
    async def _walk(self, full: bool) -> None:
        cataloguing = self.cataloguing
        try:
            async for step in cataloguing.update(full=full):
                if cataloguing.file_facts:
                    self.table.enable_file_facts()
                of = f" of {step.total:,}" if step.total is not None else ""
                self._progress = "" if step.complete else f"catalogued {step.done:,}{of}"
                now = time.monotonic()
                if step.complete:
                    await self.table.reload_now()  # every row is in the list before "end" shows
                elif now - self._last_reload >= RELOAD_EVERY_S:
                    self._last_reload = now
                    self.table.reload()
                self.table.set_state("complete" if step.complete else "loading", progress=self._progress)
                self._update_status()
        except ImagesError as error:
            self._walk_failed(str(error))

    def _walk_failed(self, message: str) -> None:
        cataloguing = self.cataloguing
        if self.table.row_count and cataloguing.complete_at is not None:
            # Offline: the last catalogue, read-only, saying since when.
            since = datetime.fromtimestamp(cataloguing.complete_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
            self._progress = f"offline: catalogue as of {since}, read-only"
            self.table.set_state("complete", progress=self._progress)
        else:
            self.table.set_error(message)
        self.notify(message, title="Listing failed", severity="error", timeout=8, markup=False)
        self._update_status()

    async def _fill_demo(self) -> None:
        from imgtui.workflows.demo import DEMO_COUNT, fill_demo_library

        self.table.show_loading_row()
        try:
            added = await fill_demo_library(
                self.images,
                clock=getattr(self.app, "demo_clock", None),
                on_start=lambda: self.notify(
                    f"Drawing {DEMO_COUNT} demo images…", title="Demo library", markup=False
                ),
            )
        except ImagesError as error:
            self.notify(str(error), title="Demo library failed", severity="error", timeout=8, markup=False)
            added = -1
        if added == 0:
            self.notify("The library is not empty: opened it as it is.", title="Demo library", markup=False)
        elif added > 0:
            self.notify(f"Added {added} demo images.", title="Demo library", markup=False)
            self._count_changed(added)  # the header's quota was read before the fill

    def worker_failed(self, worker: Worker, error: BaseException) -> None:
        """The App notifies (ui/worker_errors.py); a failed walk also shows in the list."""
        if worker.group == "catalogue-walk" and self._walk_worker is worker:
            self.table.set_error(describe_failure(error))

    # ----------------------------------------------------------------- list events

    @on(ImageTable.Highlighted)
    def _on_highlighted(self, event: ImageTable.Highlighted) -> None:
        image_id = event.image_id
        if self.grid is not None:
            self.grid.cursor_moved()  # n/N, a delete, a reload: the grid follows the list's cursor
        if self.view == "grid":
            self.details_follow(image_id)  # once the grid's cursor rests (see grid_view.py)
        else:
            self.details.show(image_id)

    @on(ImageTable.ViewChanged)
    def _on_view_changed(self) -> None:
        search = self.table.search
        note = self.query_one("#search-note", Static)
        if search.error:
            note.update(Content(safe_text(f"⚠ {search.error} (at {search.error_at + 1})")), layout=False)
            note.display = True
        else:
            note.display = False
        if self.grid is not None:
            self.grid.sync()
        self.preload_grid()  # once: the grid's first screen from the disk cache, at idle
        self._update_status()

    @on(ImageTable.SortRequested)
    def _on_sort_requested(self, event: ImageTable.SortRequested) -> None:
        current = self.table.sort
        if current.column == event.column:
            self.set_sort(Sort(current.column, not current.descending))
        else:
            self.set_sort(Sort(event.column, event.column == "uploaded"))  # type: ignore[arg-type]

    @on(ImageTable.FilterCleared)
    def _on_filter_cleared(self) -> None:
        self.close_quick_filter()

    # An action meeting the backend's truth (the catalogue is never the source of it): the
    # details panel found the row's image gone, or its record changed, since the last walk.
    @on(DetailsPanel.Gone)
    def _on_details_gone(self, event: DetailsPanel.Gone) -> None:
        self.table.remove_images([event.image_id])
        self.notify(
            f"{safe_text(event.image_id)} was deleted elsewhere: it left the list",
            severity="warning",
            markup=False,
        )

    @on(DetailsPanel.Loaded)
    def _on_details_loaded(self, event: DetailsPanel.Loaded) -> None:
        row = self.table.rows.current_row
        if row is not None and row.id == event.image.id and row_is_stale(row, event.image):
            self.table.replace_image(event.image)

    @on(ImageTable.MarksChanged)
    def _on_marks_changed(self) -> None:
        if self.grid is not None:
            self.grid.marks_changed()
        self._update_status()

    def on_thumbnail_grid_status_changed(self) -> None:
        """ThumbnailGrid.StatusChanged, by its handler name: the grid module (Pillow, cells)
        is imported with the grid's first use, not to launch."""
        self._update_status()

    def on_image_table_selected(self, event: ImageTable.Selected) -> None:
        """Enter (or a double click): the row's actions, and the full-screen viewer."""
        event.prevent_default()  # this menu replaces EditingActions' own
        from imgtui.ui.screens.choices import Choice, ChoiceScreen

        choices = [Choice(label, action, key=key) for label, key, action in [*ROW_ACTIONS, VIEW_FULL_ACTION]]
        actions = {action for _label, _key, action in [*ROW_ACTIONS, VIEW_FULL_ACTION]}

        def run(chosen: str | None) -> None:
            if chosen in actions:
                getattr(self, f"action_{chosen}")()

        self.app.push_screen(ChoiceScreen(event.image.id, choices), callback=run)

    def refresh_details(self) -> None:
        """Re-fetch the details panel (after the current image was edited)."""
        self.details.reload()

    # ----------------------------------------------------------------- status line

    def _update_status(self) -> None:
        table = self.table
        markup = Content.from_markup  # typed text and creators enter only as $variables: literal
        parts = [markup("[b]$order[/b]", order=sort_label(table.sort))]
        search = table.search
        if search.text and not search.error:
            count = f"{table.row_count:,}" + ("" if table.rows.total_exact else "+")
            parts.append(
                markup("search [b]$filter[/b]: $count", filter=safe_text(search.text), count=f"{count} found")
            )
            if self._where_ran:
                parts.append(markup("$where", where=safe_text(self._where_ran)))
        elif search.error:
            parts.append(markup("[$text-error]search: $error[/]", error=safe_text(search.error)))
        else:
            parts.append(Content(f"{table.row_count:,} loaded" + (" (all)" if table.is_complete else "")))
        if self._progress:
            parts.append(markup("[b]$progress[/b]", progress=self._progress))
        marked = table.marked_count
        if marked:
            parts.append(markup("[$text-warning][b]$marked marked[/b][/]", marked=str(marked)))
        grid = self.grid_status()
        if grid:
            parts.append(markup("$grid", grid=safe_text(grid)))
        # One fixed-height line: no layout pass needed (a layout costs ~30 ms on a big screen).
        self.query_one("#status", Static).update(Content(" · ").join(parts), layout=False)

    # ----------------------------------------------------------------- actions

    def action_quick_filter(self) -> None:
        field = self.quick_filter
        field.display = True
        field.focus()

    @on(Input.Changed, "#quick-filter")
    def _on_filter_changed(self, event: Input.Changed) -> None:
        self.table.set_filter(event.value)
        self._where_ran = ""
        self._server_part(event.value)

    @work(group="server-search", exclusive=True, exit_on_error=False)
    async def _server_part(self, text: str) -> None:
        """While the catalogue is incomplete, the clauses the API can run go to the server too
        (what it finds joins the catalogue); the status line says which part ran where."""
        if self.cataloguing.complete:
            self._where_ran = "ran on the catalogue" if text.strip() else ""
            return
        from imgtui.workflows.catalogue_rows import parse_search

        search = parse_search(text)
        _, _, shown = server_filter(search.query)
        if search.error or not shown:
            self._where_ran = "ran on the catalogue so far (incomplete)" if text.strip() else ""
            self._update_status()
            return
        try:
            found, shown = await self.cataloguing.from_server(search.query)
        except ImagesError as error:
            self._where_ran = f"server part failed: {error}"
        else:
            self._where_ran = f"{shown} ran on the server ({found:,} found), the rest on the catalogue"
            self.table.reload()
        self._update_status()

    @on(Input.Submitted, "#quick-filter")
    def _on_filter_submitted(self, event: Input.Submitted) -> None:
        # Enter keeps the filter and hands the keys back to the list.
        if not event.value.strip():
            self.quick_filter.display = False
        self.focus_view()

    def on_key(self, event: events.Key) -> None:
        if event.key == "escape" and self.quick_filter.has_focus:
            event.stop()
            self.close_quick_filter()

    def close_quick_filter(self) -> None:
        field = self.quick_filter
        field.value = ""
        field.display = False
        self.table.set_filter("")
        self.focus_view()
        self._update_status()

    def action_toggle_sort(self) -> None:
        current = self.table.sort
        self.set_sort(Sort(current.column, not current.descending))

    def set_sort(self, sort: Sort) -> None:
        self.notify(f"Sorted {sort_label(sort)}", timeout=2, markup=False)
        self.table.reload(sort=sort)

    def action_choose_sort(self) -> None:
        keys = {"uploaded": "u", "filename": "f", "creator": "c", "size": "s", "dimensions": "d"}
        from imgtui.ui.screens.choices import Choice, ChoiceScreen

        columns: list[ColumnName] = [c for c in SORTABLE if c in ("uploaded", "filename", "creator")]
        if self.table.file_facts_known:
            columns += ["size", "dimensions"]
        choices = [Choice(TITLES[c], c, key=keys[c]) for c in columns]

        def chosen(column: str | None) -> None:
            if column is not None:
                self._on_sort_requested(ImageTable.SortRequested(self.table, column))  # type: ignore[arg-type]

        self.app.push_screen(ChoiceScreen("Sort by", choices), callback=chosen)

    def action_refresh(self) -> None:
        """Walk the whole list again (edits and deletes made elsewhere show), retry details."""
        self.reload(full=True)
        self.details.reload()
        if self.grid is not None:
            self.grid.retry()

    def action_creator_filter(self) -> None:
        self._pick_creator()

    @work(group="creators", exclusive=True, exit_on_error=False)
    async def _pick_creator(self) -> None:
        from imgtui.ui.screens.choices import CreatorScreen

        known = await self.cataloguing.creators(200)
        self.app.push_screen(CreatorScreen(self.creator, known), self._apply_creator)

    def _apply_creator(self, creator: str | None) -> None:
        """`None`: cancelled. "": every creator. Anything else: that creator only."""
        if creator is None:
            return
        self.set_creator(creator or None)

    def set_creator(self, creator: str | None) -> None:
        """A creator is a clause of the search: `creator:"NAME"` in the box."""
        if creator == self.creator:
            return
        self.creator = creator
        self.table.creator = creator
        words = [w for w in self.quick_filter.value.split() if not w.lower().startswith("creator:")]
        if creator is not None:
            words.append('creator:"' + creator.replace('"', "") + '"')
        self.quick_filter.value = " ".join(words)
        self.quick_filter.display = bool(words)

    def action_clear_creator(self) -> None:
        self.set_creator(None)

    def action_mark_all(self) -> None:
        self.table.action_mark_all()

    def action_unmark_all(self) -> None:
        self.table.clear_marks()

    def action_first_image(self) -> None:
        self.table.action_first()

    def action_last_image(self) -> None:
        self.table.action_last()

    def action_toggle_preview(self) -> None:
        shown = self.details.toggle_preview()
        if shown and self.details.preview.mode == "off":
            self.notify(
                "Previews are off for this session: start imgtui with --preview auto.",
                timeout=4,
                markup=False,
            )
        else:
            self.notify("Preview on" if shown else "Preview off", timeout=2, markup=False)
        remember = getattr(self.app, "remember", None)
        if remember is not None:
            remember(preview_shown=shown)

    def action_toggle_details(self) -> None:
        shown = self.has_class("-no-details")
        self.set_class(not shown, "-no-details")
        if not shown and self.focused is not None and self.details in self.focused.ancestors_with_self:
            self.focus_view()  # focus must not stay in a hidden panel
        self.notify("Details shown" if shown else "Details hidden: i shows them", timeout=2, markup=False)
        remember = getattr(self.app, "remember", None)
        if remember is not None:
            remember(details_shown=shown)

    def action_copy(self) -> None:
        self._offer_copies()

    @work(group="copy", exclusive=True, exit_on_error=False)
    async def _offer_copies(self) -> None:
        from imgtui.ui.screens.choices import ChoiceScreen

        choices = await self._copy_choices()
        if not choices:
            self.notify("Nothing to copy: the list is empty.", severity="warning", markup=False)
            return
        text = await self.app.push_screen_wait(ChoiceScreen("Copy to clipboard", choices))
        if text is None:
            return
        self.app.copy_to_clipboard(text)
        shown = text if len(text) <= 60 else text[:59] + "…"
        self.notify(shown, title=getattr(self.app, "clipboard_note", "Copied"), markup=False)

    async def _copy_choices(self) -> list[Choice]:
        from imgtui.ui.screens.choices import copy_choices

        table = self.table
        return await copy_choices(
            self.images,
            table.current_image,
            table.marked_images,
            on_error=lambda error: self.notify(
                str(error), title="Cannot sign URL", severity="error", markup=False
            ),
        )
