"""SVG snapshots of the main screens (`pytest --snapshot-update` rewrites them).

The library is built with pinned clocks, ids and keys so every run draws the same pixels:
upload times come from a fixed counter, generated ids from a fixed sequence, and the
library's account hash from a fixed string (it appears in delivery URLs).
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from pathlib import Path

import pytest

from imgtui.backends.local import schema, store
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
    async with Images.local(path) as images:
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
    clock = itertools.count(EPOCH_MS, 97_000)
    ids = (uuid.UUID(int=n) for n in itertools.count(0x5EED0000_0000_4000_8000_000000000000))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(store, "_now_ms", lambda: next(clock))
        patch.setattr(store.uuid, "uuid4", lambda: next(ids))
        patch.setattr(schema.secrets, "token_urlsafe", lambda n=16: "snapshotHASH" if n == 16 else "k" * 43)
        asyncio.run(_build(path))
    return path


def make_app(library: Path) -> ImgTuiApp:
    return ImgTuiApp(Images.local(library), preview_mode="halfcell")


async def settle(pilot, *, details: bool = True) -> None:
    """Wait for the list, the details and the preview (and their workers) to finish."""
    app = pilot.app
    app.screen.sub_title = LABEL  # the real label holds a temp path
    table = app.screen.query_one(ImageTable)
    for _ in range(200):
        panel = app.screen.query_one(DetailsPanel)
        ready = table.load_state == "complete" and (not details or panel.shown is not None)
        if ready and panel.shown is not None and panel.shown.id == panel.image_id:
            break
        await pilot.pause(0.05)
    await app.workers.wait_for_complete()
    await pilot.pause(0.3)
    await app.workers.wait_for_complete()
    await pilot.pause()


def test_main_screen(snap_compare, snapshot_library):
    async def run_before(pilot) -> None:
        await settle(pilot)

    assert snap_compare(make_app(snapshot_library), terminal_size=(120, 36), run_before=run_before)


def test_marks_and_quick_filter(snap_compare, snapshot_library):
    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("space", "space", "slash", *"landscape")
        await settle(pilot)

    assert snap_compare(make_app(snapshot_library), terminal_size=(100, 30), run_before=run_before)


def test_help_screen(snap_compare, snapshot_library):
    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(make_app(snapshot_library), terminal_size=(120, 40), run_before=run_before)
