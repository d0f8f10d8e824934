"""The thumbnail grid over a real local library: geometry, 2D moves, marks and actions, views
sharing the cursor, cancelled fetches, a failing backend and its recovery."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from PIL import Image

from imgtui.catalogue.store import CatalogueRow
from imgtui.service import ErrorCode, Images, ImagesError
from imgtui.ui.app import ImgTuiApp
from imgtui.ui.screens import grid_view
from imgtui.ui.widgets.grid_cells import GridCell, caption
from imgtui.ui.widgets.grid_geometry import Shape, grid_shape, moved, top_row_for, wanted
from imgtui.ui.widgets.thumbnail_grid import ThumbnailGrid
from imgtui.workflows.thumbnails import Thumbnails

pytestmark = pytest.mark.filterwarnings("ignore:Image.Image.getdata:DeprecationWarning")  # textual-image


def jpeg(index: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (96, 64), ((index * 37) % 256, (index * 91) % 256, 120)).save(buffer, "JPEG")
    return buffer.getvalue()


async def fill_jpegs(images: Images, count: int) -> None:
    for index in range(count):
        await images.hosted.upload(jpeg(index), id=f"img-{index:03d}", filename=f"photo-{index:03d}.jpg")


@pytest.fixture
def library(library_path: Path) -> Path:
    async def build() -> None:
        async with Images.local(library_path) as images:
            await fill_jpegs(images, 40)

    asyncio.run(build())
    return library_path


class Failing:
    """The real local backend, whose reads of one image's file fail while `down` is set."""

    def __init__(self, backend) -> None:
        self._backend = backend
        self.down = False

    def __getattr__(self, name):
        return getattr(self._backend, name)

    async def file_info(self, image_id: str):
        if self.down:
            raise ImagesError(ErrorCode.NETWORK, "connection refused")
        return await self._backend.file_info(image_id)


def grid_of(app: ImgTuiApp) -> ThumbnailGrid:
    grid = app.screen.grid
    assert grid is not None
    return grid


async def open_grid(pilot, wait_until, *, pictures: bool = True) -> ThumbnailGrid:
    app = pilot.app
    await wait_until(pilot, lambda: app.screen.table.row_count > 0 and app.screen.table.is_complete)
    await pilot.press("t")
    grid = grid_of(app)
    # Laid out at its final size (a first layout may come at a passing size), rows pointed.
    await wait_until(
        pilot,
        lambda: (
            bool(grid.cells)
            and grid.cells[0].image_id is not None
            and grid.shape == grid_shape(*grid.content_size)
            and len(grid.cells) == grid.shape.cells
        ),
        within=30,
    )
    await pilot.pause()
    if pictures:
        await wait_until(pilot, lambda: grid.pending_count == 0, within=30)
    return grid


def shown_ids(grid: ThumbnailGrid) -> list[str | None]:
    return [cell.image_id for cell in grid.cells]


# ----------------------------------------------------------------- geometry


def test_shape_fits_cells_and_shares_the_spare_columns() -> None:
    assert grid_shape(94, 40) == Shape(5, 4, 18, 10)
    assert grid_shape(10, 5) == Shape(1, 1, 10, 5)  # never zero cells
    assert grid_shape(10_000, 10_000).cells == 16 * 12  # capped


def test_moves_in_two_dimensions_clamped() -> None:
    shape = Shape(5, 4, 18, 10)
    assert moved(7, "down", 40, shape) == 12
    assert moved(7, "up", 40, shape) == 2
    assert moved(2, "up", 40, shape) == 2  # the first row has nothing above
    assert moved(37, "down", 40, shape) == 39  # under a short last row: the last image
    assert moved(0, "left", 40, shape) == 0
    assert moved(3, "page_down", 40, shape) == 23
    assert moved(3, "page_up", 40, shape) == 0
    assert moved(3, "last", 40, shape) == 39


def test_wanted_puts_the_cursor_first_then_one_screen_ahead() -> None:
    shape = Shape(4, 2, 18, 10)
    order = wanted(100, 1, shape, cursor=6)
    indexes = [index for index, _ in order]
    assert indexes[0] == 6 and set(indexes[1:3]) == {5, 7}
    assert set(indexes[:8]) == set(range(4, 12))  # the screen first
    assert set(indexes[8:]) == set(range(12, 20))  # then the next screen
    upward = [index for index, _ in wanted(100, 3, shape, cursor=12, downward=False)]
    assert set(upward[8:]) == set(range(4, 12))
    assert top_row_for(13, 0, shape) == 2  # the cursor's row becomes the last shown


def test_caption_escapes_hostile_names_and_keeps_the_width() -> None:
    row = CatalogueRow("x", "\x1b[31mred\u202eevil-name-that-is-long.png", 0, "", True, False, "", -1, -1, -1)
    text = caption(row, 16, marked=True).plain
    assert "\x1b" not in text and "\u202e" not in text
    assert text.startswith("● ") and text.rstrip().endswith("◆")
    assert len(text) <= 16


# ----------------------------------------------------------------- the grid in the app


@pytest.mark.parametrize("size", [(100, 30), (160, 45)])
async def test_moves_in_two_dimensions_and_the_details_follow(library, wait_until, size) -> None:
    app = ImgTuiApp(Images.local(library), preview_mode="halfcell")
    async with app.run_test(size=size) as pilot:
        grid = await open_grid(pilot, wait_until, pictures=False)
        columns, cells = grid.shape.columns, grid.shape.cells
        assert columns >= 2 and grid.shape.rows >= 2
        table = app.screen.table
        await pilot.press("right", "down")
        assert table.cursor == 1 + columns
        assert grid.cells[1 + columns].is_cursor
        await pilot.press("h", "k")
        assert table.cursor == 0
        await pilot.press("pagedown")
        assert table.cursor == cells
        assert grid.top_row * columns <= cells < grid.top_row * columns + cells
        assert grid._cursor_cell is not None and grid._cursor_cell.index == cells
        await pilot.press("G")
        assert table.cursor == 39
        await wait_until(
            pilot, lambda: grid._cursor_cell is not None and grid._cursor_cell.image_id == "img-000"
        )
        await wait_until(pilot, lambda: app.screen.details.image_id == "img-000")  # newest first: last upload
        await pilot.press("g")
        assert table.cursor == 0 and grid.top_row == 0
        assert grid.cells[0].image_id == "img-039"


async def test_marks_and_the_action_menu_apply_from_the_grid(library, wait_until) -> None:
    from imgtui.ui.modals import ConfirmDeleteModal
    from imgtui.ui.screens.choices import ChoiceScreen

    app = ImgTuiApp(Images.local(library), preview_mode="halfcell")
    async with app.run_test(size=(100, 30)) as pilot:
        grid = await open_grid(pilot, wait_until, pictures=False)
        await pilot.press("space", "space")
        table = app.screen.table
        assert table.marked_count == 2 and table.cursor == 2
        assert grid.cells[0].marked and grid.cells[1].marked
        assert grid.cells[0].caption_text.startswith("●")
        assert "2 marked" in str(app.screen.query_one("#status").render())
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDeleteModal))
        assert [image.id for image in app.screen.targets] == ["img-039", "img-038"]
        await pilot.press("escape")
        await pilot.press("escape")  # in the grid: clears the marks
        assert table.marked_count == 0 and not grid.cells[0].marked
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        labels = [option.prompt for option in app.screen.query_one("OptionList").options]
        assert any("View full screen" in str(label) for label in labels)


async def test_switching_views_keeps_the_cursor_on_the_same_image(library, wait_until) -> None:
    app = ImgTuiApp(Images.local(library), preview_mode="halfcell")
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.screen.table.is_complete)
        await pilot.press("j", "j", "j")
        table = app.screen.table
        before = table.current_image.id
        grid = await open_grid(pilot, wait_until, pictures=False)
        assert grid.has_focus and not table.display
        assert grid._cursor_cell is not None and grid._cursor_cell.image_id == before
        await pilot.press("down")
        moved_to = table.current_image.id
        assert moved_to != before
        await pilot.press("t")
        assert table.has_focus and table.current_image.id == moved_to
        assert app.config.view == "list"


async def test_a_cancelled_fetch_never_paints_into_the_wrong_cell(library, wait_until, monkeypatch) -> None:
    """Fetches for the first screen are held; a page down re-points every cell; when the
    held results come in, no cell paints a picture of an image it does not show."""
    held = asyncio.Event()
    cancelled: set[str] = set()
    painted: list[tuple[str | None, str]] = []

    class Held:
        def __init__(self, real: Thumbnails) -> None:
            self.real = real

        def __getattr__(self, name):
            return getattr(self.real, name)

        def peek(self, image, box):
            result = self.real.peek(image, box)
            return None if result is None else type(result)(result.image, result.problem, image.id)

        async def get(self, image, box, *, priority=0):
            try:
                if not held.is_set() and image.id >= "img-030":
                    await held.wait()
            except asyncio.CancelledError:
                cancelled.add(image.id)
                raise
            result = await self.real.get(image, box, priority=priority)
            return type(result)(result.image, result.problem, image.id)  # tag: whose picture

    monkeypatch.setattr(grid_view, "make_source", lambda images: Held(Thumbnails(images)))
    original_paint = GridCell.paint

    def recording_paint(self, result, area):
        painted.append((self.image_id, result.source))
        original_paint(self, result, area)

    monkeypatch.setattr(GridCell, "paint", recording_paint)
    app = ImgTuiApp(Images.local(library), preview_mode="halfcell")
    async with app.run_test(size=(80, 24)) as pilot:
        grid = await open_grid(pilot, wait_until, pictures=False)
        first_screen = set(shown_ids(grid))
        await pilot.press("pagedown", "pagedown", "pagedown")
        await wait_until(pilot, lambda: grid.top_row > 0 and grid.pending_count == 0)
        assert first_screen.isdisjoint(shown_ids(grid))
        held.set()
        await pilot.pause(0.2)
        assert cancelled & first_screen  # scrolled away: their fetches were cancelled
        assert painted and all(shown == whose for shown, whose in painted)
        assert all(cell.state == "picture" for cell in grid.cells if cell.index >= 0)


async def test_a_failing_backend_shows_placeholders_and_refresh_recovers(library, wait_until) -> None:
    local = Images.local(library)
    failing = Failing(local.backend)
    failing.down = True
    app = ImgTuiApp(Images(failing), preview_mode="halfcell")
    async with app.run_test(size=(100, 30)) as pilot:
        grid = await open_grid(pilot, wait_until)
        assert grid.failed_count == len([c for c in grid.cells if c.index >= 0]) > 0
        assert grid.cells[0].shown_text.startswith("⚠ error 9000")
        await wait_until(pilot, lambda: "failed (r retries)" in str(app.screen.query_one("#status").render()))
        assert app.is_running
        failing.down = False
        await pilot.press("r")
        await wait_until(pilot, lambda: grid.failed_count == 0 and grid.pending_count == 0)
        assert all(cell.state == "picture" for cell in grid.cells if cell.index >= 0)
        await wait_until(pilot, lambda: "failed" not in str(app.screen.query_one("#status").render()))


async def test_wheel_scrolls_and_a_click_selects(library, wait_until, pilot_wheel) -> None:
    app = ImgTuiApp(Images.local(library), preview_mode="halfcell")
    async with app.run_test(size=(100, 30)) as pilot:
        grid = await open_grid(pilot, wait_until, pictures=False)
        await pilot_wheel(pilot, "#grid", times=2)
        assert grid.top_row == 2 and app.screen.table.cursor == 0
        target = grid.cells[1]
        await pilot.click(target)
        assert app.screen.table.cursor == target.index == 2 * grid.shape.columns + 1
        await wait_until(pilot, lambda: app.screen.details.image_id == target.image_id)


async def test_with_previews_off_the_grid_shows_names(library, wait_until) -> None:
    app = ImgTuiApp(Images.local(library), preview_mode="off")
    async with app.run_test(size=(100, 30)) as pilot:
        grid = await open_grid(pilot, wait_until, pictures=False)
        assert grid.cells[0].shown_text == "no preview"
        assert "photo-039.jpg" in grid.cells[0].caption_text
        assert "thumbnails: off" in str(app.screen.query_one("#status").render())


def test_halfcell_strips_draw_the_pixels_textual_image_draws() -> None:
    from rich.console import Console
    from textual_image.renderable.halfcell import Image as Halfcell

    from imgtui.ui.widgets.halfcell import halfcell_strips

    picture = Image.effect_noise((40, 30), 60).convert("RGB")
    picture.paste((10, 200, 30), (0, 0, 20, 30))  # a flat half: neighbours share one Segment
    console = Console()
    theirs = console.render_lines(
        Halfcell(picture, 12, 5), console.options.update_dimensions(12, 5), pad=False
    )
    ours = halfcell_strips(picture, 12, 5)

    def cells(lines) -> list[list[tuple]]:
        return [
            [(seg.style.color.triplet, seg.style.bgcolor.triplet) for seg in line for _ in seg.text]
            for line in lines
        ]

    assert cells(ours) == cells(theirs[:5])
    assert all(strip.cell_length == 12 for strip in ours)
    assert len(list(ours[0])) < 12  # the flat half is one run


def _colours(cell: GridCell) -> set[tuple[int, int, int]]:
    return {
        segment.style.color.triplet
        for strip in cell._picture or []
        for segment in strip
        if segment.style and segment.style.color and segment.style.color.triplet
    }


async def test_a_re_upload_under_the_same_id_shows_the_new_picture(library: Path, wait_until) -> None:
    """The grid's Strips are cached per picture, not per id: a re-upload (a new upload time)
    never repaints the old Strips (found by review: paging back showed the old picture)."""
    app = ImgTuiApp(Images.local(library), preview_mode="halfcell")
    async with app.run_test(size=(100, 30)) as pilot:
        grid = await open_grid(pilot, wait_until)
        images = app.screen.images
        for colour in ((0, 255, 0), (0, 0, 255)):
            cell = next(c for c in grid.cells if c.image_id == "img-039")
            before = cell._row.uploaded if cell._row else None
            await images.hosted.image("img-039").delete()
            await asyncio.sleep(0.01)  # a new upload time
            buffer = io.BytesIO()
            Image.new("RGB", (96, 64), colour).save(buffer, "PNG")
            await images.hosted.upload(buffer.getvalue(), id="img-039", filename="photo-039.jpg")
            app.screen.reload(full=True)
            await wait_until(
                pilot,
                lambda before=before: any(
                    c.image_id == "img-039"
                    and c._row is not None
                    and c._row.uploaded != before
                    and c.state == "picture"
                    for c in grid.cells
                ),
                within=30,
            )
            await pilot.pause()
            cell = next(c for c in grid.cells if c.image_id == "img-039")
            assert _colours(cell) == {colour}


async def test_changing_the_account_s_variants_chooses_the_thumbnail_source_again(
    library: Path, wait_until, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The account screen turned flexible variants on: the grid's source reads them again
    (else each cell would pay a failing delivery of a gone variant first; review finding)."""
    again: list[bool] = []
    original = Thumbnails.prepare

    async def counted(self, *, again_: bool = False, **kwargs):
        again.append(bool(kwargs.get("again", again_)))
        return await original(self, **kwargs)

    monkeypatch.setattr(Thumbnails, "prepare", counted)
    app = ImgTuiApp(Images.local(library), preview_mode="halfcell")
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.account.cached is not None)
        await open_grid(pilot, wait_until)
        app.account.set_usage(app.account.cached.usage)  # a usage change: not a reason
        await pilot.pause()
        assert True not in again
        app.account.set_flexible_variants(True)
        await wait_until(pilot, lambda: True in again)


# ----------------------------------------------------------------- the first grid screen


async def _list_settled(pilot, wait_until) -> None:
    app = pilot.app
    await wait_until(pilot, lambda: app.screen.table.row_count > 0 and app.screen.table.is_complete)


async def test_a_second_session_paints_the_first_grid_screen_from_memory(library, wait_until) -> None:
    """The list shows rows: the grid is mounted hidden and its first screen read from the disk
        cache into memory, so `t` paints every cell in the frame that shows the grid (no get() for
    them: only the next screen is fetched)."""
    first = ImgTuiApp(Images.local(library), preview_mode="halfcell")
    async with first.run_test(size=(160, 45)) as pilot:
        await open_grid(pilot, wait_until)  # makes the disk cache
        await pilot.press("t")  # the list is the view the next session opens in

    app = ImgTuiApp(Images.local(library), preview_mode="halfcell")
    async with app.run_test(size=(160, 45)) as pilot:
        await _list_settled(pilot, wait_until)
        screen = app.screen
        await wait_until(pilot, lambda: screen.grid is not None and screen._source is not None)
        grid, source = grid_of(app), screen._source
        assert not grid.display and screen.view == "list"  # mounted hidden, the list in front
        await wait_until(pilot, lambda: len(source.memory) >= grid.shape.cells)
        asked: list[str] = []
        real_get = source.get

        async def counting_get(image, box, *, priority=0):
            asked.append(image.id)
            return await real_get(image, box, priority=priority)

        source.get = counting_get
        screen.action_toggle_view()
        # Painted in the same call, before any layout or frame: the first frame has them.
        assert [cell.state for cell in grid.cells] == ["picture"] * grid.shape.cells
        await pilot.pause()
        assert grid.shape == grid_shape(*grid.content_size)  # the list's size was the grid's
        assert all(cell.drawn_at >= cell.picture_at for cell in grid.cells)
        assert not set(asked) & {cell.image_id for cell in grid.cells}  # asked: the next screen only


async def test_a_cold_cache_preload_decodes_nothing_and_the_grid_still_fills(
    library, wait_until, monkeypatch
) -> None:
    decoded: list[bytes] = []
    real = Thumbnails._decode_and_store
    monkeypatch.setattr(
        Thumbnails, "_decode_and_store", lambda self, data, *a: decoded.append(data) or real(self, data, *a)
    )
    app = ImgTuiApp(Images.local(library), preview_mode="halfcell")
    async with app.run_test(size=(160, 45)) as pilot:
        await _list_settled(pilot, wait_until)
        await wait_until(pilot, lambda: app.screen.grid is not None)
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        assert decoded == []  # the preload only reads the disk cache: no original decoded
        grid = await open_grid(pilot, wait_until)
        assert decoded and all(cell.state == "picture" for cell in grid.cells if cell.index >= 0)


async def test_t_does_not_rebuild_the_footer_but_other_keys_do(library, wait_until, monkeypatch) -> None:
    from imgtui.ui.widgets.quiet_footer import QuietFooter

    rebuilt: list[int] = []
    real = QuietFooter.recompose

    async def counting(self):
        rebuilt.append(1)
        await real(self)

    monkeypatch.setattr(QuietFooter, "recompose", counting)
    app = ImgTuiApp(Images.local(library), preview_mode="halfcell")
    async with app.run_test(size=(160, 45)) as pilot:
        await _list_settled(pilot, wait_until)
        await pilot.pause(0.1)
        footer = app.screen.query_one(QuietFooter)
        keys_before = [key.key for key in footer.query("FooterKey")]
        assert "t" in keys_before
        rebuilt.clear()
        await open_grid(pilot, wait_until)
        await pilot.press("t")  # and back to the list
        await pilot.pause(0.1)
        assert rebuilt == []  # the same keys in both views
        assert [key.key for key in footer.query("FooterKey")] == keys_before
        await pilot.press("slash")  # the search field has the focus: other keys
        await pilot.pause(0.1)
        assert rebuilt == [1]
        assert [key.key for key in footer.query("FooterKey")] != keys_before


async def test_opening_the_grid_in_a_test_leaves_the_collector_unfrozen(library, wait_until) -> None:
    """The app's one rule: freeze only when the launcher froze its imports (not in a test)."""
    import gc

    before = gc.get_freeze_count()
    app = ImgTuiApp(Images.local(library), preview_mode="halfcell")
    async with app.run_test(size=(100, 30)) as pilot:
        await open_grid(pilot, wait_until)
    assert gc.get_freeze_count() == before


async def test_a_deleted_image_leaves_the_thumbnail_memory(library, wait_until) -> None:
    app = ImgTuiApp(Images.local(library), preview_mode="halfcell")
    async with app.run_test(size=(100, 30)) as pilot:
        grid = await open_grid(pilot, wait_until)
        source = app.screen._source
        victim = grid.cells[0].image_id
        assert any(key[0] == victim for key in source.memory._entries)
        await pilot.press("d")
        await wait_until(pilot, lambda: app.screen is not app.screen_stack[0])
        await pilot.press("y")
        await wait_until(pilot, lambda: app.screen.table.rows.total == 39)
        assert not any(key[0] == victim for key in source.memory._entries)


async def test_a_terminal_resized_before_t_still_gets_a_grid_of_its_size(library, wait_until) -> None:
    """The hidden grid was planned at the list's old size: shown, it is laid out anew."""
    app = ImgTuiApp(Images.local(library), preview_mode="halfcell")
    async with app.run_test(size=(160, 45)) as pilot:
        await _list_settled(pilot, wait_until)
        await wait_until(pilot, lambda: app.screen.grid is not None)
        planned = grid_of(app).shape
        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        grid = await open_grid(pilot, wait_until)
        assert grid.shape != planned and grid.shape == grid_shape(*grid.content_size)
        assert [cell.index for cell in grid.cells] == list(range(grid.shape.cells))
        assert all(cell.state == "picture" for cell in grid.cells)
        assert all(cell.caption_text.strip() for cell in grid.cells)
