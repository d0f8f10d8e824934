"""The main screen's second view: `t` toggles the list and the thumbnail grid, `f` opens the
full-screen viewer. Mixed into MainScreen (main.py keeps browsing; this file the views).

The grid is made before its first use: at idle once the list shows rows (`preload_grid`), it
is mounted hidden at the list's size, and its first screen's thumbnails are read from the disk
cache into memory (~20 small files on a worker thread; nothing decoded from an original,
nothing downloaded; over an account, one image's record is asked to learn the kind of
backend, as the grid's first fetch would), as yazi preloads what is around its cursor. `t` then flips `display`: one
layout and one frame, with the pictures (measured at 160x45 from a warm disk cache: 59 ms,
against 188 ms when `t` built the grid). A session that never leaves the list pays the hidden
grid's mount (~20 widgets) and those reads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, cast

from textual import work
from textual.binding import Binding
from textual.widget import Widget

from imgtui.service import Images
from imgtui.ui.preview.terminal import PreviewMode, resolve_in_app
from imgtui.ui.widgets.image_table import freeze_start_up

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.app import App
    from textual.screen import Screen
    from textual.timer import Timer

    from imgtui.ui.account_cache import AccountState
    from imgtui.ui.widgets.details import DetailsPanel
    from imgtui.ui.widgets.image_table import ImageTable
    from imgtui.ui.widgets.thumbnail_grid import ThumbnailGrid
    from imgtui.workflows.thumbnails import Thumbnails

View = Literal["list", "grid"]

GRID_BINDINGS = [
    Binding("t", "toggle_view", "Grid", id="view.grid", tooltip="Thumbnail grid / list (the choice is kept)"),
    Binding("f", "view_full", "Full screen", id="view.full", tooltip="The image full screen (esc: back)"),
]
VIEW_FULL_ACTION = ("View full screen", "f", "view_full")
DETAILS_AFTER_S = 0.08  # the grid's cursor rests this long before the details panel follows


def make_source(images: Images) -> Thumbnails:
    """The thumbnail source of this library: a disk cache for a local one, small delivery
    variants for an account (workflows/thumbnails.py)."""
    from imgtui.workflows.thumbnails import Thumbnails  # on first use: not needed to launch

    return Thumbnails(images)


class GridView:
    """`t`, `f` and the grid's upkeep; MainScreen provides `images`, `table`, `app`."""

    images: Images
    preview_mode: PreviewMode
    view: View = "list"
    _grid: ThumbnailGrid | None = None
    _source: Thumbnails | None = None
    _source_made = False
    _preloaded = False
    _details_timer: Timer | None = None
    _details_wanted: str | None = None
    _unsubscribe_account: Callable[[], None] | None = None
    _account_seen: tuple[object, bool] | None = None

    if TYPE_CHECKING:
        app: App[object]

        @property
        def table(self) -> ImageTable: ...

        @property
        def details(self) -> DetailsPanel: ...

        @property
        def list_pane(self) -> Widget: ...
        def notify(self, message: str, **kwargs: object) -> None: ...
        def _update_status(self) -> None: ...

    @property
    def grid(self) -> ThumbnailGrid | None:
        return self._grid

    @property
    def view_widget(self) -> Widget:
        """What has the keys in this view: the list or the grid."""
        return self._grid if self.view == "grid" and self._grid is not None else self.table

    def focus_view(self) -> None:
        self.view_widget.focus()

    def action_toggle_view(self) -> None:
        self.set_view("list" if self.view == "grid" else "grid")
        remember = getattr(self.app, "remember", None)
        if remember is not None:
            remember(view=self.view)

    def set_view(self, view: View) -> None:
        self.view = view
        grid = self._ensure_grid() if view == "grid" else self._grid
        table = self.table
        table.display = view == "list"
        if grid is not None:
            grid.display = view == "grid"
            if view == "grid":
                grid.about_to_show()
        self.list_pane.border_title = "Thumbnails" if view == "grid" else "Images"
        if view == "list":
            # The list kept the cursor while hidden; bring its row into view once it is laid out.
            table.call_after_refresh(lambda: table.move_cursor(table.cursor))
        self.focus_view()
        self._update_status()

    def _ensure_grid(self, *, hidden: bool = False) -> ThumbnailGrid:
        if self._grid is None:
            # The app's one rule for the collector (ui/widgets/image_table.py): what start-up
            # built is frozen once, and only when the launcher froze its imports.
            freeze_start_up()
            from imgtui.ui.widgets.thumbnail_grid import ThumbnailGrid  # on first use (PIL, cells)

            mode = resolve_in_app(self.preview_mode)
            table = self.table
            hint = (table.size.width, table.size.height) if table.display else None  # the grid's place
            self._grid = ThumbnailGrid(table, self._ensure_source(mode), mode=mode, size_hint=hint, id="grid")
            self._grid.display = not hidden
            self.list_pane.mount(self._grid, after=table)
        return self._grid

    def _ensure_source(self, mode: PreviewMode) -> Thumbnails | None:
        if not self._source_made:
            self._source_made = True
            self._source = make_source(self.images) if mode != "off" else None
            if self._source is not None:
                self._prepare_source()
                account = getattr(self.app, "account", None)  # the session's AccountCache
                if account is not None:
                    self._unsubscribe_account = account.subscribe(self._account_changed)
                    if (known := account.cached) is not None:
                        self._account_seen = (known.variants, known.flexible_variants)
        return self._source

    def preload_grid(self) -> None:
        """The list shows rows: once, after that frame, mount the grid hidden (its cells laid
        out by the frame that shows it, not by a second one) and read the thumbnails of its
        first screen (around the cursor) from the disk cache into memory. Cheap to call again."""
        if self._preloaded or self._grid is not None or self.view != "list":
            return
        table = self.table
        if table.rows.total == 0 or not table.display or min(table.size) <= 0:
            return
        self._preloaded = True
        table.call_after_refresh(self._warm_first_screen)

    @work(group="thumbnails-warm", exit_on_error=False)
    async def _warm_first_screen(self) -> None:
        if self._grid is not None or min(self.table.size) <= 0:
            return  # the grid came first: it asks for its own pictures
        await self._ensure_grid(hidden=True).warm_first_screen()

    @work(group="thumbnails-prepare", exit_on_error=False)
    async def _prepare_source(self, again: bool = False) -> None:
        if self._source is not None:
            await self._source.prepare(again=again)  # reads the account's variants

    def _account_changed(self, state: AccountState) -> None:
        """Variants or flexible variants changed (the account screen): choose the thumbnail
        source again, or every cell would pay a failing delivery before the original."""
        seen = (state.variants, state.flexible_variants)
        if self._account_seen is not None and seen != self._account_seen:
            self._prepare_source(again=True)
        self._account_seen = seen

    def forget_thumbnails(self, ids: list[str]) -> None:
        """Deleted images: their thumbnails leave the memory cache at once (the disk cache's
        files age out under its budget; a re-upload under the same id has a new key anyway)."""
        if self._source is not None:
            self._source.forget_all(ids)

    async def close_grid(self) -> None:
        if self._unsubscribe_account is not None:
            self._unsubscribe_account()
        if self._source is not None:
            await self._source.aclose()

    def action_view_full(self) -> None:
        from imgtui.ui.screens.viewer import ViewerScreen

        if self.table.rows.total == 0:
            self.notify("Nothing to view: the list is empty.", severity="warning", timeout=3, markup=False)
            return
        self.app.push_screen(
            ViewerScreen(self.images, self.table, mode=resolve_in_app(self.preview_mode)),
            callback=lambda _: self._viewer_closed(),
        )

    def details_follow(self, image_id: str | None) -> None:
        """The details panel follows the grid's cursor once it rests for DETAILS_AFTER_S: each
        show() clears its preview, a layout of the screen (~60 ms at 160x45), which held pgdn
        would pay on every page."""
        self._details_wanted = image_id
        if self._details_timer is None:
            # The screen's own timer: it stops with the screen (an app timer outlived it).
            self._details_timer = cast("Screen[None]", self).set_timer(DETAILS_AFTER_S, self._details_due)
        else:
            self._details_timer.reset()

    def _details_due(self) -> None:
        self._details_timer = None
        self.details.show(self._details_wanted)

    def _viewer_closed(self) -> None:
        if self._grid is not None:
            self._grid.cursor_moved()
        self.focus_view()

    def grid_status(self) -> str:
        """The status line's word on where the thumbnails come from (grid view only)."""
        if self.view != "grid" or self._grid is None:
            return ""
        grid = self._grid
        text = grid.source_label  # "thumbnails: local cache"
        failed = grid.failed_count
        if failed:
            text += f" · {failed} failed (r retries)"
        return text
