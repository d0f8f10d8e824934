"""SVG snapshots of the main screens (`pytest --snapshot-update` rewrites them).

The library is built with pinned clocks, ids and keys so every run draws the same pixels:
upload times come from a fixed counter, generated ids from a fixed sequence, and the
library's account hash from a fixed string (it appears in delivery URLs).
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from pathlib import Path

import pytest
from textual.widgets import Input

from imgtui.service import Images
from imgtui.ui.app import ImgTuiApp
from imgtui.ui.widgets.details import DetailsPanel
from imgtui.ui.widgets.image_table import ImageTable
from imgtui.workflows import demo

EPOCH_MS = 1_740_000_000_000  # 2025-02-19 21:20 UTC
LABEL = "local library ~/photos"

PICKED = {0: "products/shoes/red-sneaker.png", 1: "brand/imgtui-logo.svg"}  # catalog index -> id


async def _build(path: Path) -> None:
    catalog = demo.demo_catalog()
    blobs = await asyncio.to_thread(
        lambda: [demo.encode(spec, index) for index, spec in enumerate(catalog[:14])]
    )
    clock = itertools.count(EPOCH_MS, 97_000)
    ids = (str(uuid.UUID(int=n)) for n in itertools.count(0x5EED0000_0000_4000_8000_000000000000))
    library = Images.local(
        path,
        clock=lambda: next(clock),
        new_id=lambda: next(ids),
        new_secret=lambda n: "snapshotHASH" if n == 16 else "k" * 43,
    )
    async with library as images:
        # The sneaker goes last, so it is first in newest-first order.
        for index in [*range(1, 14), 0]:
            spec = catalog[index]
            default_id = f"{spec.kind}/{spec.title.lower().replace(' ', '-')}"
            await images.hosted.upload(
                blobs[index],
                id=None if spec.signed else PICKED.get(index, default_id),
                filename=spec.filename,
                require_signed_urls=spec.signed,
                metadata=spec.metadata,
                creator=spec.creator,
            )


@pytest.fixture(scope="module")
def snapshot_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("snapshots") / "library"
    asyncio.run(_build(path))
    return path


def make_app(library: Path) -> ImgTuiApp:
    return ImgTuiApp(Images.local(library), preview_mode="halfcell")


def _at_rest(app: ImgTuiApp) -> bool:
    """The list is complete and the details panel and the preview show the cursor's image."""
    table = app.screen.query_one(ImageTable)
    if table.load_state != "complete":
        return False
    panel = app.screen.query_one(DetailsPanel)
    current = table.current_image
    target = current.id if current is not None else None
    preview = panel.preview
    return (
        panel.image_id == target  # the Highlighted message has reached the panel
        and panel.shown is not None
        and panel.shown.id == target  # the record arrived (after the debounce timer)
        and (not preview.display or preview.shown_id == target)  # and the picture
    )


async def settle(pilot, *, within: float = 20.0) -> None:
    """Wait until the screen is at rest (list, details, preview, their workers); fail after
    `within` seconds rather than draw a half-loaded screen."""
    app = pilot.app
    deadline = time.monotonic() + within
    while True:
        await app.workers.wait_for_complete()
        await pilot.pause()
        if _at_rest(app):
            break
        if time.monotonic() > deadline:
            raise AssertionError(f"the screen did not settle within {within} s")
        await pilot.pause(0.05)
    # The real label holds a temp path; set once the screen's own on_mount has set its label.
    app.screen.sub_title = LABEL
    # A debounce timer may still be due for the same image: let it fire and its fetch finish.
    await pilot.pause(0.2)
    await app.workers.wait_for_complete()
    await pilot.pause()
    assert _at_rest(app), "the screen moved on while settling"


def test_main_screen(snap_compare, snapshot_library):
    async def run_before(pilot) -> None:
        await settle(pilot)

    assert snap_compare(make_app(snapshot_library), terminal_size=(120, 36), run_before=run_before)


def test_main_screen_80x24(snap_compare, snapshot_library):
    """The smallest usual terminal: narrow columns, the details panel squeezed."""

    async def run_before(pilot) -> None:
        await settle(pilot)

    assert snap_compare(make_app(snapshot_library), terminal_size=(80, 24), run_before=run_before)


def test_marks_and_quick_filter(snap_compare, snapshot_library):
    async def run_before(pilot) -> None:
        await settle(pilot)
        # The filter field keeps focus, and a focused Input blinks every 0.5 s: which phase
        # the snapshot caught depended on timing (it flaked under `pytest -n 2`). Without
        # blinking, the cursor stays drawn from the moment the field takes focus.
        pilot.app.screen.query_one("#quick-filter", Input).cursor_blink = False
        await pilot.press("space", "space", "slash", *"landscape")
        await settle(pilot)
        assert pilot.app.screen.query_one(ImageTable).filter_text == "landscape"

    assert snap_compare(make_app(snapshot_library), terminal_size=(100, 30), run_before=run_before)


def test_help_screen(snap_compare, snapshot_library):
    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(make_app(snapshot_library), terminal_size=(120, 40), run_before=run_before)


async def settle_grid(pilot) -> None:
    """The grid is on, every visible cell has its picture (or its placeholder)."""
    await settle(pilot)
    await pilot.press("t")
    deadline = time.monotonic() + 20
    grid = pilot.app.screen.grid
    while not (grid.cells and grid.cells[0].image_id is not None and grid.pending_count == 0):
        if time.monotonic() > deadline:
            raise AssertionError("the grid did not settle")
        await pilot.pause(0.05)
    await settle(pilot)


def test_grid_view(snap_compare, snapshot_library):
    """The thumbnail grid (half-cell pictures), the cursor moved in two dimensions, a mark."""

    async def run_before(pilot) -> None:
        await settle_grid(pilot)
        await pilot.press("space", "right", "down")
        await settle(pilot)

    assert snap_compare(make_app(snapshot_library), terminal_size=(120, 36), run_before=run_before)


def test_viewer_screen(snap_compare, snapshot_library):
    """The full-screen viewer on the third image (a landscape photo)."""
    from imgtui.ui.screens.viewer import ViewerScreen

    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("j", "j", "f")
        deadline = time.monotonic() + 20
        app = pilot.app
        while not (isinstance(app.screen, ViewerScreen) and app.screen.shown_id == app.screen.wanted_id):
            if time.monotonic() > deadline:
                raise AssertionError("the viewer did not settle")
            await pilot.pause(0.05)
        await app.workers.wait_for_complete()
        await pilot.pause(0.1)

    assert snap_compare(make_app(snapshot_library), terminal_size=(100, 30), run_before=run_before)
