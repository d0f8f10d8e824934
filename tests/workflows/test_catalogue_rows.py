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
