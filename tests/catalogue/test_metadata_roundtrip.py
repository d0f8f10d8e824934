"""A catalogue row gives back the record the list's actions need: the same ImageMetadata the
backend listed (meta, variants with ids that need quoting, flags), from a real local library."""

from __future__ import annotations

from pathlib import Path

from imgtui.catalogue import CatalogueStore, CatalogueWalker, CatalogueWindow
from imgtui.catalogue.store import SCHEMA_VERSION, connect, get_state, set_state, to_metadata
from imgtui.service import Images
from tests.catalogue.test_walker import png


async def test_rows_rebuild_the_listed_records(tmp_path: Path) -> None:
    images = Images.local(tmp_path / "lib")
    store = CatalogueStore(tmp_path / "cat.sqlite3")
    try:
        await images.hosted.upload(png(2, 2), filename="a b.png", metadata={"k": [1, "x"]}, creator="al")
        await images.hosted.upload(png(1, 1), id="dir/with space%", filename="custom.png")
        listed = (await images.hosted.list(limit=10, sort_order="desc")).images
        walker = CatalogueWalker(images, store)
        async for _ in walker.walk():
            pass
        window = CatalogueWindow(store)
        assert await window.set_view() == 2
        rebuilt = [to_metadata(row) for row in await window.rows(0, 2)]
        assert rebuilt == listed
        assert rebuilt[0].variants and "with%20space%25" in rebuilt[0].variants[0]
    finally:
        await store.aclose()
        await images.aclose()


def test_an_older_catalogue_layout_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "cat.sqlite3"
    conn, _ = connect(path)
    conn.execute(
        "INSERT INTO images (id, filename, uploaded, creator, signed, draft, search_text)"
        " VALUES ('old', '', 0, '', 0, 0, 'old')"
    )
    set_state(conn, "schema", "1")
    conn.close()
    conn, _ = connect(path)
    try:
        assert conn.execute("SELECT count(*) FROM images").fetchone()[0] == 0
        assert get_state(conn, "schema") == str(SCHEMA_VERSION)
    finally:
        conn.close()


async def test_reading_next_to_a_row_equals_reading_by_offset(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from imgtui.catalogue import Sort
    from imgtui.catalogue.store import record, upsert
    from imgtui.service import ImageMetadata

    store = CatalogueStore(tmp_path / "cat.sqlite3")
    try:
        fakes = [
            ImageMetadata(
                id=f"i{n:03d}",
                filename=f"{'bca'[n % 3]}{n % 7}.png",
                uploaded=datetime.fromtimestamp(1_700_000_000 + n // 3, UTC),  # ties: broken by id
                creator=["al", "bo", None][n % 3],
            )
            for n in range(90)
        ]
        await store.transaction(upsert, [record(image) for image in fakes], 1)
        window = CatalogueWindow(store)
        for sort in (Sort(), Sort("uploaded", False), Sort("filename", True), Sort("creator", False)):
            total = await window.set_view(None, sort)
            every = [row.id for row in await window.rows(0, total)]
            for at in (0, 17, 45, 88):
                after = await window.rows_next_to(every[at], 10)
                assert after is not None and [r.id for r in after] == every[at + 1 : at + 11], (sort, at)
                before = await window.rows_next_to(every[at], 10, forward=False)
                assert before is not None and [r.id for r in before] == every[max(at - 10, 0) : at]
        assert await window.rows_next_to("gone", 5) is None
    finally:
        await store.aclose()


async def test_a_count_nobody_wants_any_more_gives_up(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from imgtui.catalogue import parse_query
    from imgtui.catalogue.store import record, upsert
    from imgtui.service import ImageMetadata

    store = CatalogueStore(tmp_path / "cat.sqlite3")
    try:
        fakes = [
            ImageMetadata(id=f"pic{n:05d}", uploaded=datetime.fromtimestamp(n, UTC)) for n in range(20_000)
        ]
        await store.transaction(upsert, [record(image) for image in fakes], 1)
        window = CatalogueWindow(store)
        await window.set_view(parse_query("pic"), exact=False)
        assert await window.count_unless(lambda: True) is None and window.total is None
        assert await window.count_unless(lambda: False) == 20_000 and window.total == 20_000
    finally:
        await store.aclose()
