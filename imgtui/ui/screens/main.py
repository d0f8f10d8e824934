"""The main screen: the image list on the left, the details panel (and preview) on the right.

The screen owns the I/O of browsing: it pages the list (one request in flight at a time),
resets it when the query changes (sort order, creator), and turns every ImagesError into a
notification. Widgets only show what they are given.
"""

from __future__ import annotations

import gc
from typing import ClassVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Static
from textual.worker import Worker

from imgtui.common.text import safe_text
from imgtui.service import Images, ImagesError
from imgtui.ui.config import UiConfig
from imgtui.ui.screens.choices import Choice, ChoiceScreen, CreatorScreen
from imgtui.ui.screens.editing import EDIT_BINDINGS, EditingActions
from imgtui.ui.widgets.details import DetailsPanel
from imgtui.ui.widgets.image_table import ImageTable, SortOrder
from imgtui.ui.widgets.preview import PreviewMode
from imgtui.ui.widgets.table_layout import parse_columns
from imgtui.ui.worker_errors import ForwardsWorkerErrors, describe_failure
from imgtui.workflows.pager import FIRST_PAGE, NEXT_PAGES, START_SORT_ORDER, ImagePager

SORT_LABELS = {"desc": "newest first", "asc": "oldest first"}


class MainScreen(ForwardsWorkerErrors, EditingActions, Screen[None]):
    """Browse (list, quick filter, details) and edit (the forms in screens/editing.py)."""

    BINDING_GROUP_TITLE = "Browse"
    # Below 76 columns the list and the details panel (min widths 40 and 34) cannot share
    # the width: the details panel goes, rather than the list overflowing its border.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (76, "-normal")]
    AUTO_FOCUS = "#images"
    FIRST_PAGE_SIZE = FIRST_PAGE
    PAGE_SIZE = NEXT_PAGES

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "slash",
            "quick_filter",
            "Filter",
            id="find.filter",
            tooltip="Filter loaded images by id or filename",
        ),
        Binding("s", "toggle_sort", "Sort", id="find.sort", tooltip="Newest first / oldest first (reloads)"),
        Binding(
            "c", "creator_filter", "Creator", id="find.creator", tooltip="List only one creator's images"
        ),
        Binding(
            "r",
            "refresh",
            "Refresh",
            show=False,
            id="view.refresh",
            tooltip="Reload the list and retry the current image",
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
    ]

    def __init__(self, images: Images, *, preview_mode: PreviewMode = "off", demo: bool = False) -> None:
        super().__init__(id="main")
        self.images = images
        self.preview_mode = preview_mode
        self.demo = demo
        # Not `sort_order`: Widget.sort_order is Textual's own (it orders sibling widgets).
        self.list_order: SortOrder = START_SORT_ORDER  # the CLI prefetches this query
        self.creator: str | None = None
        self._pager: ImagePager | None = None
        # While a new query's first page is on its way, the rows on screen (and the pager they
        # came from) stay, so a failed refresh can keep showing them.
        self._reset_due = False
        # After G: keep loading pages and following the last row until the list is complete,
        # or until the user moves the cursor away from the end.
        self._follow_end = False
        self._previous_pager: ImagePager | None = None
        self._pager_worker: Worker | None = None
        self._file_facts_probed = False  # does the backend know sizes and pixels? asked once

    # ----------------------------------------------------------------- layout

    def compose(self) -> ComposeResult:
        yield Header(icon="▣")
        with Horizontal(id="browser"):
            with Vertical(id="list-pane"):
                yield ImageTable(id="images")
                yield Input(placeholder="filter loaded images by id or filename", id="quick-filter")
            config = getattr(self.app, "config", None)
            shown = config.preview_shown if isinstance(config, UiConfig) else True
            yield DetailsPanel(self.images, preview_mode=self.preview_mode, preview_shown=shown, id="details")
        yield Static(id="status")
        yield Footer()

    @property
    def table(self) -> ImageTable:
        return self.query_one("#images", ImageTable)

    @property
    def details(self) -> DetailsPanel:
        return self.query_one("#details", DetailsPanel)

    @property
    def quick_filter(self) -> Input:
        return self.query_one("#quick-filter", Input)

    def on_mount(self) -> None:
        note = getattr(self.app, "credentials_note", "")
        label = f"{self.images.label} · {note}" if note else self.images.label
        self.sub_title = safe_text(label)  # the header shows it as plain text
        config = getattr(self.app, "config", None)
        if isinstance(config, UiConfig):
            self.table.set_columns(parse_columns(config.columns))
            self.set_class(not config.details_shown, "-no-details")
        self.query_one("#list-pane").border_title = "Images"
        self.quick_filter.display = False
        self._update_status()
        if self.demo:
            self._fill_demo()
        else:
            self.reload()

    # ----------------------------------------------------------------- paging

    def reload(self) -> None:
        """Start the list again from the top with the current sort order and creator.

        The rows on screen stay until the new first page arrives: a refresh that fails (server
        gone, network down) keeps what the user was looking at instead of an empty list.
        """
        if self._pager_worker is not None:
            self._pager_worker.cancel()
            self._pager_worker = None
        self._follow_end = False
        if not self._reset_due:
            self._reset_due, self._previous_pager = True, self._pager
        self._pager = ImagePager(
            self.images,
            sort_order=self.list_order,
            creator=self.creator,
            first_page=self.FIRST_PAGE_SIZE,
            page_size=self.PAGE_SIZE,
        )
        self._update_status()
        self.load_more()

    def _apply_pending_reset(self) -> None:
        """The new query's first page is here: now forget the old rows."""
        self._reset_due, self._previous_pager = False, None
        self.table.reset(sort_order=self.list_order, creator=self.creator)

    def _restore_previous_query(self, error: ImagesError) -> None:
        """The first page of a new query failed: keep showing the old rows, as they were."""
        previous = self._previous_pager
        self._reset_due, self._previous_pager = False, None
        if previous is None or self.table.loaded_count == 0:
            self._pager = None
            self.table.set_error(str(error))
            self.notify(str(error), title="Listing failed", severity="error", timeout=8, markup=False)
            return
        self.notify(
            f"{error}\nStill showing the previous list.",
            title="Listing failed",
            severity="error",
            timeout=8,
            markup=False,
        )
        self._pager = previous
        self.list_order, self.creator = self.table.list_order, self.table.creator
        self.table.append_page([], complete=previous.complete)  # back to idle/complete
        self._update_status()

    def load_more(self) -> None:
        """Fetch the next page unless one is in flight or the list is complete."""
        pager = self._pager
        if pager is None or pager.complete:
            return
        if self._pager_worker is not None and self._pager_worker.is_running:
            return
        self.table.show_loading_row()
        self._pager_worker = self._load_page(pager)

    @work(group="pager", exit_on_error=False)
    async def _load_page(self, pager: ImagePager) -> None:
        try:
            page = await pager.next_page()
        except ImagesError as error:
            if pager is not self._pager:
                return
            self._follow_end = False
            if self._reset_due:
                self._restore_previous_query(error)
            else:
                self.table.set_error(str(error))
                self.notify(str(error), title="Listing failed", severity="error", timeout=8, markup=False)
            return
        if pager is not self._pager:
            return  # the query changed while this page was on its way
        if self._reset_due:
            self._apply_pending_reset()
        self.table.append_page(page.images, complete=pager.complete)
        if not self._file_facts_probed and page.images:
            self._file_facts_probed = True
            self._probe_file_facts(page.images[0].id)
        if self._follow_end:
            self._follow_end = not pager.complete
            self.table.move_cursor(self.table.row_count - 1)  # near the end: asks for the next page
        # Loaded rows live as long as the list: move them out of the cyclic GC's sight, or
        # its full collections walk every row (measured: 240 ms stalls at 50k rows).
        gc.freeze()
        self._update_status()

    @on(ImageTable.NeedMore)
    def _on_need_more(self) -> None:
        self.load_more()

    @work(group="file-facts", exit_on_error=False)
    async def _probe_file_facts(self, image_id: str) -> None:
        """One row's file facts: where the backend keeps none (Cloudflare), the size, pixels
        and type columns never show and no row asks again."""
        answer = await self.images.hosted.image(image_id).file_info()
        if answer is not None and answer[1] is not None:
            self.table.add_file_facts({image_id: answer[1]})
            self.table.enable_file_facts()

    @on(ImageTable.NeedFileFacts)
    def _on_need_file_facts(self, event: ImageTable.NeedFileFacts) -> None:
        self._fetch_file_facts(event.ids)

    @work(group="file-facts", exit_on_error=False)
    async def _fetch_file_facts(self, ids: list[str]) -> None:
        facts = {}
        for image_id in ids:  # only the rows on screen: a few dozen short reads
            try:
                answer = await self.images.hosted.image(image_id).file_info()
            except ImagesError:
                continue  # the cell stays blank; the details panel reports errors
            facts[image_id] = answer[1] if answer is not None else None
        self.table.add_file_facts(facts)

    @work(group="demo", exit_on_error=False)
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
        self.reload()

    def worker_failed(self, worker: Worker, error: BaseException) -> None:
        """The App notifies (ui/worker_errors.py); a failed page also shows in the list."""
        if worker.group == "pager" and self._pager_worker is worker:
            self._follow_end = False
            self.table.set_error(describe_failure(error))

    # ----------------------------------------------------------------- list events

    @on(ImageTable.Highlighted)
    def _on_highlighted(self, event: ImageTable.Highlighted) -> None:
        if self._follow_end and not self.table.cursor_at_end:
            self._follow_end = False  # the user moved away: stop loading to the end
            self._update_status()
        self.details.show(event.image.id if event.image else None)

    @on(ImageTable.WantsEnd)
    def _on_wants_end(self) -> None:
        if self._pager is not None and not self._pager.complete and not self._follow_end:
            self._follow_end = True
            self._update_status()
            self.load_more()

    @on(ImageTable.FilterCleared)
    def _on_filter_cleared(self) -> None:
        self.close_quick_filter()

    @on(ImageTable.MarksChanged)
    def _on_marks_changed(self) -> None:
        self._update_status()

    def refresh_details(self) -> None:
        """Re-fetch the details panel (after the current image was edited)."""
        self.details.reload()

    # ----------------------------------------------------------------- status line

    def _update_status(self) -> None:
        table = self.table
        markup = Content.from_markup  # typed text and creators enter only as $variables: literal
        parts = [markup("[b]$order[/b]", order=SORT_LABELS[self.list_order])]
        if self.creator is not None:
            parts.append(markup("creator [b]$creator[/b]", creator=safe_text(self.creator) or "(none)"))
        if table.filter_text:
            parts.append(markup("filter [b]$filter[/b]", filter=safe_text(table.filter_text)))
        loaded = table.loaded_count
        parts.append(Content(f"{loaded} loaded" + (" (all)" if table.is_complete else "")))
        if self._follow_end:
            parts.append(markup("[b]loading to the end[/b] (move the cursor to stop)"))
        marked = table.marked_count
        if marked:
            parts.append(markup("[$text-warning][b]$marked marked[/b][/]", marked=str(marked)))
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
        self._update_status()

    @on(Input.Submitted, "#quick-filter")
    def _on_filter_submitted(self, event: Input.Submitted) -> None:
        # Enter keeps the filter and hands the keys back to the list.
        if not event.value.strip():
            self.quick_filter.display = False
        self.table.focus()

    def on_key(self, event: events.Key) -> None:
        if event.key == "escape" and self.quick_filter.has_focus:
            event.stop()
            self.close_quick_filter()

    def close_quick_filter(self) -> None:
        field = self.quick_filter
        field.value = ""
        field.display = False
        self.table.set_filter("")
        self.table.focus()
        self._update_status()

    def action_toggle_sort(self) -> None:
        self.list_order = "asc" if self.list_order == "desc" else "desc"
        self.notify(f"Sorted {SORT_LABELS[self.list_order]}", timeout=2, markup=False)
        self.reload()

    def action_refresh(self) -> None:
        """Reload the list, and retry the current row's details and preview now."""
        self.reload()
        self.details.reload()

    def action_creator_filter(self) -> None:
        known = sorted({image.creator for image in self.table.loaded_images if image.creator})
        self.app.push_screen(CreatorScreen(self.creator, known[:200]), self._apply_creator)

    def _apply_creator(self, creator: str | None) -> None:
        """`None`: cancelled. "": every creator. Anything else: that creator only."""
        if creator is None:
            return
        self.set_creator(creator or None)

    def set_creator(self, creator: str | None) -> None:
        if creator == self.creator:
            return
        self.creator = creator
        self.reload()

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
            self.table.focus()  # focus must not stay in a hidden panel
        self.notify("Details shown" if shown else "Details hidden: i shows them", timeout=2, markup=False)
        remember = getattr(self.app, "remember", None)
        if remember is not None:
            remember(details_shown=shown)

    def action_copy(self) -> None:
        self._offer_copies()

    @work(group="copy", exclusive=True, exit_on_error=False)
    async def _offer_copies(self) -> None:
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
        table = self.table
        image = table.current_image
        choices: list[Choice] = []
        marked = table.marked_images
        if len(marked) > 1:
            choices.append(Choice(f"IDs of the {len(marked)} marked images", "\n".join(m.id for m in marked)))
        if image is None:
            return choices
        choices.append(Choice("ID", image.id))
        if image.filename:
            choices.append(Choice("Filename", image.filename))
        handle = self.images.hosted.image(image.id)
        for url in image.variants:
            variant = url.rstrip("/").rsplit("/", 1)[-1]
            if image.require_signed_urls:
                try:
                    signed = await handle.signed_url(variant, expires_in=3600)
                except ImagesError as error:
                    self.notify(str(error), title="Cannot sign URL", severity="error", markup=False)
                    continue
                choices.append(Choice(f"{variant} URL (signed, valid 1 hour)", signed))
            else:
                choices.append(Choice(f"{variant} URL", url))
        return choices
