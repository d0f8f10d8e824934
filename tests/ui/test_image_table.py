"""The list widget over a real catalogue: public methods the editing work relies on (add,
remove, replace keep the cursor and marks), the windowed rows, sort and layout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from textual.app import App, ComposeResult

from imgtui.service import ImageMetadata, Images
from imgtui.ui.widgets.image_table import ImageTable
from imgtui.ui.widgets.table_layout import ELLIPSIS, clean, fit, format_uploaded, layout_columns
from imgtui.workflows.catalogue_rows import CHUNK, MAX_CHUNKS, Sort
from imgtui.workflows.cataloguing import Cataloguing

BASE = datetime(2025, 1, 1, tzinfo=UTC)


def meta(n: int, **changes) -> ImageMetadata:
    fields = {"id": f"id-{n:03d}", "filename": f"f{n}.png", "uploaded": BASE + timedelta(minutes=n)}
    fields.update(changes)
    return ImageMetadata(**fields)


class TableApp(App[None]):
    def __init__(self, cataloguing: Cataloguing) -> None:
        super().__init__()
        self.cataloguing = cataloguing
        self.highlighted: list[str | None] = []
        self.sort_requests: list[str] = []

    def compose(self) -> ComposeResult:
        table = ImageTable(id="images")
        table.attach(self.cataloguing)
        yield table

    def on_image_table_highlighted(self, event: ImageTable.Highlighted) -> None:
        self.highlighted.append(event.image.id if event.image else None)

    def on_image_table_sort_requested(self, event: ImageTable.SortRequested) -> None:
        self.sort_requests.append(event.column)


@pytest.fixture
async def cataloguing(tmp_path: Path):
    images = Images.local(tmp_path / "lib")
    opened = Cataloguing(images, tmp_path / "cat.sqlite3")
    yield opened
    await opened.aclose()
    await images.aclose()


async def settled(pilot, table: ImageTable, wait_until, reloads: int) -> None:
    await wait_until(pilot, lambda: table.reloads >= reloads and table.current_image is not None)


async def filled(pilot, table: ImageTable, wait_until, cataloguing: Cataloguing, count: int) -> None:
    await cataloguing.note_changed([meta(n) for n in range(count)])
    table.reload()
    await settled(pilot, table, wait_until, 1)


async def test_remove_keeps_the_cursor_and_marks_sensible(cataloguing, wait_until):
    app = TableApp(cataloguing)
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(ImageTable)
        await filled(pilot, table, wait_until, cataloguing, 10)
        table.move_cursor(2)
        table.action_toggle_mark()  # marks id-007, moves to id-006
        assert table.current_image.id == "id-006" and table.marked_count == 1
        table.remove_images(["id-006"])
        await settled(pilot, table, wait_until, 2)
        assert table.current_image.id == "id-005"  # the next row took its place
        assert "id-006" not in [m.id for m in table.loaded_images]
        assert [m.id for m in table.marked_images] == ["id-007"]  # marks kept
        table.remove_images(["id-007", "not-listed"])
        await settled(pilot, table, wait_until, 3)
        assert table.marked_count == 0 and table.row_count == 8
        table.move_cursor(table.row_count - 1)
        table.remove_images([table.current_image.id])
        await settled(pilot, table, wait_until, 4)
        assert table.current_image.id == "id-001"  # at the end: the previous row


async def test_add_and_replace_keep_the_highlighted_image(cataloguing, wait_until):
    app = TableApp(cataloguing)
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(ImageTable)
        await filled(pilot, table, wait_until, cataloguing, 10)
        table.move_cursor(3)
        table.action_toggle_mark()
        assert table.current_image.id == "id-005"
        table.add_images([meta(20), meta(21)])  # newest first: both on top
        await settled(pilot, table, wait_until, 2)
        assert [m.id for m in table.loaded_images][:2] == ["id-021", "id-020"]
        assert table.current_image.id == "id-005" and table.cursor == 6
        assert table.rows.is_marked("id-006")
        table.replace_image(meta(5, filename="renamed.png", meta={"k": 1}))
        await settled(pilot, table, wait_until, 3)
        assert table.current_image.filename == "renamed.png" and table.current_image.meta == {"k": 1}
        assert "renamed.png" in table.render_line(table.cursor + 1).text


async def test_a_big_catalogue_is_read_by_window_and_every_row_is_reachable(cataloguing, wait_until):
    app = TableApp(cataloguing)
    count = CHUNK * MAX_CHUNKS + 500
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(ImageTable)
        await filled(pilot, table, wait_until, cataloguing, count)
        assert table.row_count == count
        for target in (count - 1, count // 2, 7, count - 1):
            table.move_cursor(target)
            await wait_until(
                pilot,
                lambda t=target: (
                    table.current_image is not None and table.current_image.id == f"id-{count - 1 - t:03d}"
                ),
            )
        # Bounded: the rows read stay within the cache, whatever was visited.
        for target in range(0, count, CHUNK):
            table.move_cursor(target)
            table.rows.row(target)
            await table.rows.load(table.rows.missing(target, target))
        assert table.rows.cached_rows <= CHUNK * MAX_CHUNKS < count


async def test_sort_by_column_is_shown_in_the_header_and_a_click_asks_for_it(cataloguing, wait_until):
    app = TableApp(cataloguing)
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(ImageTable)
        await cataloguing.note_changed([meta(n, filename=f"{'zyx'[n % 3]}-{n}.png") for n in range(9)])
        table.reload()
        await settled(pilot, table, wait_until, 1)
        assert "UPLOADED ▼" in table.render_line(0).text
        table.reload(sort=Sort("filename", False))
        await settled(pilot, table, wait_until, 2)
        names = [m.filename for m in table.loaded_images]
        assert names == sorted(names) and "FILENAME ▲" in table.render_line(0).text
        header = table.render_line(0).text
        await pilot.click("#images", offset=(header.index("UPLOADED") + 1, 0))
        await pilot.click("#images", offset=(3, 0))  # the id column does not sort
        assert app.sort_requests == ["uploaded"]


async def test_control_characters_never_reach_the_terminal(cataloguing, wait_until):
    app = TableApp(cataloguing)
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(ImageTable)
        await cataloguing.note_changed([meta(1, filename="evil\x1b[2Jname.png", creator="\x1b]52;c;x\x07")])
        table.reload()
        await settled(pilot, table, wait_until, 1)
        line = table.render_line(1).text
        assert "\x1b" not in line and "\x07" not in line and "evil" in line


async def test_the_status_row_follows_the_walk_and_textual_loading_still_works(cataloguing, wait_until):
    # Our status-row method once shadowed Widget.set_loading(loading), so Textual's own
    # `widget.loading = True` raised TypeError on the list.
    app = TableApp(cataloguing)
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(ImageTable)
        table.loading = True
        await pilot.pause()
        assert table.loading and table.load_state == "idle"
        table.loading = False
        await filled(pilot, table, wait_until, cataloguing, 2)
        table.set_state("loading", progress="catalogued 2 of 5")
        assert "catalogued 2 of 5" in table.render_line(3).text
        table.set_state("complete")
        assert table.is_complete and "2 images · end" in table.render_line(3).text


def test_layout_shares_flexible_space_and_drops_columns_when_narrow():
    wide = layout_columns(120)
    assert wide.uploaded and wide.creator
    assert 2 + wide.id + 1 + wide.filename + 1 + wide.uploaded + 1 + wide.creator + 1 + 2 <= 120
    assert layout_columns(50).creator == 0 and layout_columns(50).uploaded
    narrow = layout_columns(30)
    assert narrow.creator == 0 and narrow.uploaded == 0 and narrow.id >= 1 and narrow.filename >= 1
    assert layout_columns(400).id == 36  # a UUID fits; the filename takes the rest
    assert layout_columns(90).id > layout_columns(90).filename  # ids are longer than names


def test_fit_and_clean():
    assert fit("abcdef", 4) == "abc" + ELLIPSIS
    assert fit("ab", 4) == "ab  "
    assert fit("日本語テキスト", 5) == "日本" + ELLIPSIS  # wide characters count two cells
    assert fit("x", 0) == ""
    assert clean("a\tb\x07") == "a\\tb\\x07"  # controls as visible escapes
    assert clean("a\u200bb") == "a�b"  # other unprintables keep the row width
    assert clean(None) == ""
    assert format_uploaded(datetime(2025, 3, 1, 14, 22, 59, tzinfo=UTC)) == "2025-03-01 14:22"


def test_whole_ids_and_file_columns_where_there_is_room():
    # Issue 14, trip 6: a 160-column terminal's list (about 94 cells) shows whole UUIDs.
    assert layout_columns(94).id == 36 and layout_columns(94).creator
    assert not layout_columns(190).has_file_columns  # not without facts from the backend
    wide = layout_columns(190, file_facts=True)
    assert [name for name, _ in wide.shown][-3:] == ["size", "dimensions", "format"]
    assert wide.id == 36 and wide.filename > 36  # what is left goes to the filename
    assert not layout_columns(80, file_facts=True).has_file_columns  # never at the id's cost
    for width in range(20, 260):
        shown = layout_columns(width, file_facts=True).shown
        assert 2 + sum(cells + 1 for _, cells in shown) + 2 <= max(width, 27), width


def test_columns_chosen_and_ordered_in_the_config():
    from imgtui.ui.widgets.table_layout import parse_columns

    names = parse_columns(["Creator", "filename", "bogus", "creator", "size"])
    assert names == ("id", "creator", "filename", "size")  # known, once, in order; id kept
    columns = layout_columns(120, names, file_facts=True)
    assert [name for name, _ in columns.shown] == ["id", "creator", "filename", "size"]
    assert [title for title, _ in columns.titles] == ["ID", "CREATOR", "FILENAME", "SIZE"]
