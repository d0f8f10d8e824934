"""The launch imports only what its first frame needs (issue 11: launch within 1.5x of an empty
Textual app). Pillow, textual-image, the grid, the menus, the forms and the upload code are
imported when first used; the first frame is the main screen with the catalogue's rows, and
no pydantic model is built for it. A fresh `imgtui --library PATH` process is run through the
real entry point (imgtui.cli.main), headless, and its sys.modules looked at twice: when
App.run starts, and at the first frame that shows the list.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from imgtui.service import Images
from imgtui.workflows.cataloguing import Cataloguing
from tests.ui.conftest import png_bytes

ROOT = Path(__file__).resolve().parents[2]

# As the bench's probe (benchmarks/bench_tui.py) does: App.run made headless, the terminal
# check off (no terminal here), sys.modules dumped at App.run and at the first frame.
CHILD = """
import json, sys
import imgtui.ui.cli
from textual.app import App
from textual.screen import Screen

imgtui.ui.cli.terminal_problem = lambda *args: None
seen = {}
draw = Screen._compositor_refresh


def refresh(screen):
    draw(screen)
    if "frame" not in seen:
        table = screen.query("#images")
        models = sys.modules.get("imgtui.service.models")
        seen["frame"] = {
            "screen": type(screen).__name__,
            "rows": table.first().row_count if table else 0,
            "modules": sorted(sys.modules),
            "model_built": bool(models and models.ImageMetadata.__pydantic_complete__),
        }
        screen.app.exit()


def run(self, **options):
    seen["run"] = sorted(sys.modules)
    return App.__dict__["_real_run"](self, headless=True, size=(120, 36))


App._real_run = App.run
App.run = run
Screen._compositor_refresh = refresh
from imgtui.cli import main

main(["--library", sys.argv[1]])
print(json.dumps(seen))
"""

# Loaded on first use, never to launch (each was measured on the launch path before).
NOT_AT_LAUNCH = (
    "PIL",  # Pillow: the first picture
    "textual_image.widget",  # the picture widgets (textual-image): the first picture
    "textual_image.renderable",
    "imgtui.ui.widgets.thumbnail_grid",  # the grid: `t`
    "imgtui.ui.widgets.grid_cells",
    "imgtui.ui.widgets.halfcell",
    "imgtui.workflows.thumbnails",
    "imgtui.workflows.image_decode",  # decoding: the first preview
    "imgtui.workflows.svg_raster",
    "imgtui.workflows.svg_sanitise",
    "imgtui.ui.screens.choices",  # menus: enter, y, c, S
    "imgtui.ui.screens.viewer",
    "imgtui.ui.screens.help",
    "imgtui.ui.screens.account",
    "imgtui.ui.modals",  # the forms
    "imgtui.ui.paste",  # paste checks (and with them TextArea)
    "textual.widgets._text_area",
    "imgtui.service.sniff",  # uploads
    "imgtui.service.sources",
    "pydantic",  # the service's models: the first record (~50 ms of imports); settings are a dataclass
    "imgtui.service.models",
)
# The command line's own parts stay out of the TUI's launch as well, and a local library
# needs nothing of an account's (httpx).
NOT_FOR_THE_TUI = ("imgtui.commands.ls", "imgtui.emulator", "httpx", "starlette", "uvicorn")


def _loaded(modules: list[str], names: tuple[str, ...]) -> list[str]:
    return [m for m in modules if any(m == name or m.startswith(name + ".") for name in names)]


async def _library_with_a_catalogue(root: Path, count: int) -> Path:
    """A library of `count` images whose catalogue was walked (a second launch's state)."""
    library = root / "library"
    images = Images.local(library)
    try:
        for n in range(count):
            await images.hosted.upload(png_bytes(), id=f"img-{n:04d}", filename=f"f{n}.png")
        cataloguing = Cataloguing(images)
        try:
            await cataloguing.open()
            async for _ in cataloguing.update():
                pass
        finally:
            await cataloguing.aclose()
    finally:
        await images.aclose()
    return library


async def test_the_launch_imports_only_what_the_first_frame_needs(tmp_path: Path) -> None:
    library = await _library_with_a_catalogue(tmp_path, 5)
    env = dict(os.environ, HOME=str(tmp_path / "home"), TERM="xterm-256color")
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-P", "-c", CHILD, str(library)],
        capture_output=True,
        text=True,
        env=env,  # IMGTUI_CONFIG_DIR (conftest): the same catalogue folder as above
        stdin=subprocess.DEVNULL,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    for when in (seen["run"], seen["frame"]["modules"]):
        assert _loaded(when, NOT_AT_LAUNCH) == []
        assert _loaded(when, NOT_FOR_THE_TUI) == []
    frame = seen["frame"]
    assert frame["screen"] == "MainScreen"  # the list itself, no empty screen before it
    assert frame["rows"] == 5  # the catalogue's first screen, read by the launcher
    assert not frame["model_built"]  # the first highlight carries a row, not a model
