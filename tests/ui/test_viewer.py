"""The full-screen viewer over a real local library: it shows the cursor's image, steps in the
list's order (prefetching the neighbours), and esc returns on the image last viewed."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from PIL import Image

from imgtui.catalogue.store import CatalogueRow
from imgtui.service import Images
from imgtui.ui.app import ImgTuiApp
from imgtui.ui.screens.main import MainScreen
from imgtui.ui.screens.viewer import ViewerScreen

pytestmark = pytest.mark.filterwarnings("ignore:Image.Image.getdata:DeprecationWarning")  # textual-image


def jpeg(index: int, size: tuple[int, int] = (640, 480)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, ((index * 53) % 256, 90, (index * 29) % 256)).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture
def library(library_path: Path) -> Path:
    async def build() -> None:
        async with Images.local(library_path) as images:
            for index in range(6):
                await images.hosted.upload(jpeg(index), id=f"pic-{index}", filename=f"pic-{index}.jpg")

    asyncio.run(build())
    return library_path


def viewer_of(app: ImgTuiApp) -> ViewerScreen:
    screen = app.screen
    assert isinstance(screen, ViewerScreen)
    return screen


async def test_the_viewer_steps_prefetches_and_esc_returns(library, wait_until) -> None:
    app = ImgTuiApp(Images.local(library), preview_mode="halfcell")
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.screen.table.is_complete and app.screen.table.row_count == 6)
        await pilot.press("j")  # pic-4 (newest first)
        await pilot.press("f")
        await wait_until(pilot, lambda: isinstance(app.screen, ViewerScreen))
        viewer = viewer_of(app)
        await wait_until(pilot, lambda: viewer.shown_id == "pic-4")
        strips = viewer._strips
        assert strips is not None and strips.display
        width, height = strips.strips[0].cell_length, len(strips.strips)
        assert width >= 50 and height >= 20  # as large as the screen allows (4:3 in 100x29)
        caption = str(viewer._caption.render())
        assert "\x1b" not in caption and "pic-4.jpg" in caption and "640\u00d7480" in caption
        assert "2 of 6" in caption
        hostile = CatalogueRow("x", "\x1b[2J\u202eevil.jpg", 0, "", True, False, "", 10, 4, 3)
        shown = viewer._caption_text(hostile, 0, 1).plain
        assert "\x1b" not in shown and "\u202e" not in shown and "signed URLs" in shown
        # The neighbours were decoded ahead: a step shows the next one with no wait.
        await wait_until(pilot, lambda: all(task.done() for task in viewer._prefetch) and viewer._prefetch)
        await pilot.press("right")
        assert viewer.shown_id == "pic-3"  # straight from the cache, in the key's own handler
        await pilot.press("k", "k")
        await wait_until(pilot, lambda: viewer.shown_id == "pic-5")
        await pilot.press("left")  # the first image: nothing before it
        assert viewer.shown_id == "pic-5"
        await pilot.press("j")
        await wait_until(pilot, lambda: viewer.shown_id == "pic-4")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
        assert app.screen.table.current_image.id == "pic-4"  # back where the viewer was
        assert app.screen.table.has_focus


async def test_the_viewer_from_the_grid_and_the_action_menu(library, wait_until) -> None:
    app = ImgTuiApp(Images.local(library), preview_mode="halfcell")
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.screen.table.is_complete)
        await pilot.press("t", "right")
        grid = app.screen.grid
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen.query("OptionList"))
        await pilot.press("f")  # the menu's own key for "View full screen"
        await wait_until(pilot, lambda: isinstance(app.screen, ViewerScreen))
        await wait_until(pilot, lambda: viewer_of(app).shown_id == "pic-4")
        await pilot.press("l", "escape")
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
        assert grid is not None and grid.has_focus
        assert grid._cursor_cell is not None and grid._cursor_cell.image_id == "pic-3"


async def test_a_corrupt_image_says_why_in_the_viewer(library_path, wait_until) -> None:
    async with Images.local(library_path) as images:
        good = jpeg(0)
        await images.hosted.upload(good[:200] + b"\x00" * 400 + good[-2:], id="broken", filename="broken.jpg")
    app = ImgTuiApp(Images.local(library_path), preview_mode="halfcell")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.screen.table.row_count == 1)
        await pilot.press("f")
        await wait_until(pilot, lambda: isinstance(app.screen, ViewerScreen))
        viewer = viewer_of(app)
        await wait_until(pilot, lambda: viewer.shown_id == "broken")
        assert viewer._message.display and "corrupt" in str(viewer._message.render())
        assert app.is_running
