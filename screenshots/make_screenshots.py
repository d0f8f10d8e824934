"""Make the README screenshots: `python screenshots/make_screenshots.py`.

Builds the demo library in a temp dir, opens the browser headless with the half-cell
preview (colour, no terminal graphics protocol needed) and saves SVGs next to this file.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import os
import random
import sys
import tempfile
import uuid
from pathlib import Path

from textual import events

from imgtui.service import Images
from imgtui.ui.app import ImgTuiApp
from imgtui.ui.config import UiConfig
from imgtui.ui.widgets.details import DetailsPanel
from imgtui.ui.widgets.image_table import ImageTable
from imgtui.workflows.demo import fill_demo_library

OUT = Path(__file__).resolve().parent
SIZE = (150, 42)
LABEL = "local library ~/imgtui-demo"
START_MS = 1_746_000_000_000  # spring 2025: uploads spread over a few weeks read better than "all now"


async def build_library(path: Path) -> None:
    # Pin what the library draws at random or from the clock, so that regenerating the
    # screenshots changes them only when the UI changed: upload times (spread over weeks),
    # generated ids, and the account hash and signing key. The library's seams take them.
    clock = itertools.count(START_MS, 7_919_000)
    rng = random.Random(2025)  # realistic uuid4s, the same on every run
    ids = (uuid.UUID(int=rng.getrandbits(128), version=4) for _ in itertools.count())

    def new_secret(nbytes: int) -> str:
        return base64.urlsafe_b64encode(rng.randbytes(nbytes)).rstrip(b"=").decode()

    images = Images.local(
        path, clock=lambda: next(clock), new_id=lambda: str(next(ids)), new_secret=new_secret
    )
    async with images:
        await fill_demo_library(images)


async def settle(pilot) -> None:
    app = pilot.app
    table = app.screen.query_one(ImageTable)
    for _ in range(400):
        panel = app.screen.query_one(DetailsPanel)
        if table.load_state == "complete" and panel.shown is not None and panel.shown.id == panel.image_id:
            break
        await pilot.pause(0.05)
    await app.workers.wait_for_complete()
    await pilot.pause(0.5)
    await app.workers.wait_for_complete()
    await pilot.pause()


async def shoot(library: Path) -> list[Path]:
    saved: list[Path] = []
    # Default settings, whatever the user's config says (and nothing is written there).
    app = ImgTuiApp(Images.local(library), preview_mode="halfcell", config=UiConfig())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.sub_title = LABEL
        # Two rows marked, the cursor a few rows down.
        await pilot.press("j", "j", "space", "j", "space", "j", "j")
        await settle(pilot)
        saved.append(Path(app.save_screenshot("main.svg", path=str(OUT))))
        await pilot.press("slash", *"landscape", "enter")
        await settle(pilot)
        saved.append(Path(app.save_screenshot("filter.svg", path=str(OUT))))
        await pilot.press("slash", "escape", "question_mark")
        await pilot.pause(0.3)
        saved.append(Path(app.save_screenshot("help.svg", path=str(OUT))))
        await pilot.press("escape", "e")
        await pilot.pause(0.5)
        saved.append(Path(app.save_screenshot("edit-metadata.svg", path=str(OUT))))
        await pilot.press("escape")
        await pilot.pause(0.3)
        # A drop as GNOME Terminal sends it: single-quoted paths, one with a space.
        drop = " ".join(f"'{path}'" for path in write_drop_files(library.parent / "My Pictures"))
        app.post_message(events.Paste(drop))
        await pilot.pause(0.8)
        saved.append(Path(app.save_screenshot("upload-drop.svg", path=str(OUT))))
        while len(app.screen_stack) > 1:  # the upload form (and its "discard?" question) go
            app.pop_screen()
        await pilot.pause(0.3)
        # The thumbnail grid, the cursor moved into the second row; then that image full screen.
        await pilot.press("t", "g", "space", "right", "right", "down")
        await settle_grid(pilot)
        saved.append(Path(app.save_screenshot("grid.svg", path=str(OUT))))
        await pilot.press("f")
        await settle_viewer(pilot)
        saved.append(Path(app.save_screenshot("viewer.svg", path=str(OUT))))
    return saved


async def settle_grid(pilot) -> None:
    grid = pilot.app.screen.grid
    for _ in range(400):
        if grid.cells and grid.cells[0].image_id is not None and grid.pending_count == 0:
            break
        await pilot.pause(0.05)
    await settle(pilot)


async def settle_viewer(pilot) -> None:
    from imgtui.ui.screens.viewer import ViewerScreen

    app = pilot.app
    for _ in range(400):
        screen = app.screen
        if (
            isinstance(screen, ViewerScreen)
            and screen.shown_id is not None
            and screen.shown_id == screen.wanted_id
        ):
            break
        await pilot.pause(0.05)
    await app.workers.wait_for_complete()
    await pilot.pause(0.3)


def write_drop_files(folder: Path) -> list[Path]:
    """Three small images to 'drop' on the terminal."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, size, colour in (
        ("beach day.jpg", (640, 427), (230, 160, 90)),
        ("team-photo.png", (800, 600), (90, 140, 210)),
        ("logo final (2).webp", (256, 256), (120, 200, 120)),
    ):
        path = folder / name
        Image.new("RGB", size, colour).save(path)
        paths.append(path)
    return paths


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="imgtui-shots-") as tmp:
        os.environ["IMGTUI_CACHE_DIR"] = str(Path(tmp) / "cache")  # thumbnails: not the user's cache
        library = Path(tmp) / "library"
        asyncio.run(build_library(library))
        for path in asyncio.run(shoot(library)):
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
