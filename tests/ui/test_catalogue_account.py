"""The list over an account's catalogue, against `imgtui serve` over loopback: a background
walk with progress (through faults), the last catalogue offline and read-only, saying since
when, and clauses the API can run sent to it while the catalogue is incomplete."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console
from textual.content import Content

from imgtui.service import Images
from imgtui.ui.app import ImgTuiApp
from imgtui.ui.config import UiConfig
from imgtui.ui.widgets.image_table import ImageTable
from imgtui.workflows.catalogue_rows import parse_search
from imgtui.workflows.cataloguing import Cataloguing
from tests.rest_harness import ACCOUNT_ID, FAST_RETRIES, rest_server_and_images

SIZE = (120, 36)
COUNT = 120


def plain(widget) -> str:
    console = Console(width=200, file=io.StringIO(), color_system=None)
    content = widget.content
    console.print(content.plain if isinstance(content, Content) else content)
    return console.file.getvalue()


@pytest.fixture
async def library(library_path: Path, fill) -> Path:
    images = Images.local(library_path)
    await fill(images, COUNT)
    await images.aclose()
    return library_path


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Cataloguing, "PAGE", 25)
    monkeypatch.setattr(Cataloguing, "FIRST_PAGE", 10)


async def test_an_account_is_walked_in_the_background_with_progress(library, wait_until):
    seen: list[str] = []
    faults = "rate=0.2,seed=3,kinds=500"
    async with rest_server_and_images(library, faults=faults, max_retries=3) as (_server, images):
        app = ImgTuiApp(images, config=UiConfig())
        async with app.run_test(size=SIZE) as pilot:
            table = app.screen.query_one("#images", ImageTable)
            status = app.screen.query_one("#status")

            def complete() -> bool:
                seen.append(plain(status))
                return table.is_complete

            await wait_until(pilot, complete, within=30)
            assert table.row_count == COUNT
            assert any(f"of {COUNT}" in line and "catalogued" in line for line in seen)  # "X of Y"
            await pilot.press("G")
            await wait_until(
                pilot, lambda: table.current_image is not None and table.current_image.id == "img-0000"
            )


async def test_offline_shows_the_last_catalogue_read_only_and_since_when(library, wait_until):
    async with rest_server_and_images(library) as (server, images):
        url = server.api_url
        app = ImgTuiApp(images, config=UiConfig())
        async with app.run_test(size=SIZE) as pilot:
            table = app.screen.query_one("#images", ImageTable)
            await wait_until(pilot, lambda: table.is_complete and table.row_count == COUNT)
    # The server is gone; the same account at the same address opens its last catalogue.
    offline = Images.cloudflare(ACCOUNT_ID, "test-token", base_url=url, **{**FAST_RETRIES, "max_retries": 0})
    try:
        app = ImgTuiApp(offline, config=UiConfig())
        async with app.run_test(size=SIZE) as pilot:
            table = app.screen.query_one("#images", ImageTable)
            status = app.screen.query_one("#status")
            await wait_until(pilot, lambda: "offline: catalogue as of" in plain(status), within=20)
            assert table.row_count == COUNT and "read-only" in plain(status)
            await pilot.press("slash", *"file-0042")
            await wait_until(pilot, lambda: table.row_count == 1)  # search works offline
            assert table.current_image.id == "img-0042"
    finally:
        await offline.aclose()


async def test_server_side_clauses_fill_an_incomplete_catalogue(library, tmp_path: Path):
    async with rest_server_and_images(library) as (_server, images):
        cataloguing = Cataloguing(images, tmp_path / "cat.sqlite3")
        try:
            query = parse_search("creator:bob meta.n=4 file").query
            found, shown = await cataloguing.from_server(query)
            assert found == 1 and shown == "creator:bob meta.n=4.0"
            assert await cataloguing.window.set_view(query) == 1
            assert [row.id for row in await cataloguing.window.rows(0, 5)] == ["img-0004"]
            # Nothing the API can run: nothing asked.
            assert await cataloguing.from_server(parse_search("file -draft").query) == (0, "")
        finally:
            await cataloguing.aclose()


async def test_the_details_panel_brings_the_catalogue_up_to_the_backend(library, wait_until):
    """The catalogue is never the source of truth: an image deleted or edited elsewhere,
    met by the details panel, leaves the list (and the catalogue) or shows its new record in
    the list and in searches, without a walk."""
    images = Images.local(library)
    app = ImgTuiApp(images, config=UiConfig())
    try:
        async with app.run_test(size=SIZE) as pilot:
            table = app.screen.query_one("#images", ImageTable)
            await wait_until(pilot, lambda: table.is_complete and table.current_image is not None)
            first = table.current_image
            assert first is not None and first.id == "img-0119"
            other = Images.local(library)  # another client
            await other.hosted.image("img-0119").delete()
            await other.hosted.image("img-0118").update(metadata={"tag": "brand-new"})
            await other.aclose()
            app.screen.details.reload()
            await wait_until(pilot, lambda: table.row_count == COUNT - 1)
            await wait_until(
                pilot, lambda: table.current_image is not None and table.current_image.id == "img-0118"
            )
            await wait_until(pilot, lambda: (table.current_image.meta or {}).get("tag") == "brand-new")
            assert any("deleted elsewhere" in str(n.message) for n in app._notifications)
            table.set_filter("brand-new")
            await wait_until(pilot, lambda: table.row_count == 1)
    finally:
        await images.aclose()
