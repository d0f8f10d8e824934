"""The list's windowed model over a real catalogue, before and after its first reload."""

from __future__ import annotations

from datetime import UTC, datetime

from imgtui.catalogue import CatalogueStore, CatalogueWindow
from imgtui.catalogue.store import record, upsert
from imgtui.catalogue.window import first_screen
from imgtui.service.models import ImageMetadata
from imgtui.workflows.catalogue_rows import CHUNK, CatalogueRows


async def test_any_row_of_a_seeded_first_screen_is_reachable_before_the_reload() -> None:
    """The launcher seeds the list with the first screen and a capped count; `G` pressed
    before the reload that follows must read the real rows at the end, not an empty chunk."""
    store = CatalogueStore(":memory:")
    try:
        images = [
            ImageMetadata(id=f"img{n:04d}", uploaded=datetime.fromtimestamp(n, UTC)) for n in range(1000)
        ]
        await store.transaction(upsert, [record(image) for image in images], 1)
        screen = await store.run(first_screen, CHUNK, 300)  # capped: "300+"
        assert (screen.total, screen.exact) == (300, False)
        rows = CatalogueRows(CatalogueWindow(store))
        rows.seed(screen.rows, screen.total, screen.exact)
        rows.move_cursor(rows.total - 1)  # G
        assert await rows.load(rows.missing(rows.cursor, rows.cursor))
        assert rows.current_id == "img0700"  # newest first: index 299 of the whole view
        await rows.reload()  # the reload keeps the cursor's image and learns the real count
        assert (rows.total, rows.total_exact) == (1000, True)
        assert rows.current_id == "img0700" and rows.cursor == 299
    finally:
        await store.aclose()


async def test_format_over_a_catalogue_without_file_facts_says_so(tmp_path) -> None:
    """An account's catalogue has no formats (Cloudflare's API does not say): `format:png`
    is an inline message there, not an empty list; a local library's walk answers it."""
    import io

    from PIL import Image

    from imgtui.catalogue import CatalogueWalker
    from imgtui.service import Images
    from imgtui.workflows.catalogue_rows import NO_FORMATS

    picture = io.BytesIO()
    Image.new("RGB", (2, 2)).save(picture, "PNG")
    images = Images.local(tmp_path / "lib")
    try:
        await images.hosted.upload(picture.getvalue(), filename="a.png")
        for file_info, expected in ((False, NO_FORMATS), (True, "")):
            store = CatalogueStore(tmp_path / f"cat-{file_info}.sqlite3")
            try:
                async for _ in CatalogueWalker(images, store, file_info=file_info).walk():
                    pass
                rows = CatalogueRows(CatalogueWindow(store))
                state = await rows.set_search("format:png")
                assert state.error == expected
                if file_info:
                    assert rows.total == 1 and (await rows.set_search("-format:png")).error == ""
                    assert rows.total == 0
            finally:
                await store.aclose()
    finally:
        await images.aclose()


async def test_a_keystroke_typed_over_stops_its_sql() -> None:
    """A sparse clause scans the whole catalogue (hundreds of ms at a million rows); once a
    newer keystroke replaced its view, its reads stop instead of holding the catalogue's one
    thread while the next keystroke and the scrolling wait."""
    import pytest

    from imgtui.catalogue import parse_query
    from imgtui.catalogue.window import Superseded

    store = CatalogueStore(":memory:")
    try:
        images = [
            ImageMetadata(id=f"img{n:05d}", uploaded=datetime.fromtimestamp(n, UTC), meta={"n": n})
            for n in range(20_000)
        ]
        await store.transaction(upsert, [record(image) for image in images], 1)
        window = CatalogueWindow(store)
        await window.set_view(parse_query("meta.n=7"), exact=False)
        with pytest.raises(Superseded):
            await window.rows(0, CHUNK, stale=lambda: True)
        with pytest.raises(Superseded):
            await window.count(cap=10_000, stale=lambda: True)
        assert [row.id for row in await window.rows(0, CHUNK, stale=lambda: False)] == ["img00007"]
        rows = CatalogueRows(window)
        await rows.set_search("meta.n=8")
        assert rows.current_id == "img00008" and rows.total == 1
    finally:
        await store.aclose()
