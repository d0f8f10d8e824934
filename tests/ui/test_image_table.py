"""The list widget on its own: public methods the editing work relies on, layout, filter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from textual.app import App, ComposeResult

from imgtui.service import ImageMetadata
from imgtui.ui.widgets import table_layout
from imgtui.ui.widgets.image_table import ImageTable
from imgtui.ui.widgets.table_layout import ELLIPSIS, clean, fit, format_uploaded, layout_columns

BASE = datetime(2025, 1, 1, tzinfo=UTC)


def meta(n: int, **changes) -> ImageMetadata:
    fields = {"id": f"id-{n:03d}", "filename": f"f{n}.png", "uploaded": BASE + timedelta(minutes=n)}
    fields.update(changes)
    return ImageMetadata(**fields)


class TableApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.highlighted: list[str | None] = []
        self.need_more = 0

    def compose(self) -> ComposeResult:
        yield ImageTable(id="images")

    def on_image_table_highlighted(self, event: ImageTable.Highlighted) -> None:
        self.highlighted.append(event.image.id if event.image else None)

    def on_image_table_need_more(self) -> None:
        self.need_more += 1


def desc_rows(count: int) -> list[ImageMetadata]:
    return [meta(n) for n in reversed(range(count))]


async def test_remove_keeps_the_cursor_sensible():
    app = TableApp()
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(ImageTable)
        table.reset(sort_order="desc", creator=None)
        table.append_page(desc_rows(10), complete=True)
        table.move_cursor(3)
        current = table.current_image.id
        table.remove_images([current])
        assert table.current_image.id == "id-005"  # the next row took its place
        assert current not in [m.id for m in table.loaded_images]
        table.move_cursor(table.row_count - 1)
        table.remove_images([table.current_image.id, "not-listed"])
        assert table.current_image.id == "id-001"  # at the end: the previous row
        table.move_cursor(0)
        table.remove_images(["id-001"])  # a row below the cursor: the cursor stays put
        assert table.current_image.id == "id-009"
        await pilot.pause()
        assert app.highlighted[-1] == "id-009"
        table.remove_images([m.id for m in table.loaded_images])
        assert table.current_image is None and table.row_count == 0


async def test_replace_updates_in_place():
    app = TableApp()
    async with app.run_test(size=(100, 20)):
        table = app.query_one(ImageTable)
        table.append_page(desc_rows(5), complete=True)
        table.move_cursor(1)
        table.replace_image(meta(3, filename="renamed.png", require_signed_urls=True))
        assert table.current_image.filename == "renamed.png"
        assert [m.id for m in table.loaded_images] == ["id-004", "id-003", "id-002", "id-001", "id-000"]
        assert (
            "renamed.png" in table.render_line(2).text
            and table_layout.LOCK_GLYPH in table.render_line(2).text
        )
        table.replace_image(meta(99))  # not listed: ignored
        assert table.loaded_count == 5


async def test_add_images_desc_goes_on_top_and_keeps_the_highlight():
    app = TableApp()
    async with app.run_test(size=(100, 20)):
        table = app.query_one(ImageTable)
        table.reset(sort_order="desc", creator=None)
        table.append_page(desc_rows(5), complete=False)
        table.move_cursor(2)
        table.add_images([meta(50)])
        assert table.loaded_images[0].id == "id-050"
        assert table.current_image.id == "id-002"  # still the same image under the cursor


async def test_add_images_asc_at_the_end_only_when_complete():
    app = TableApp()
    async with app.run_test(size=(100, 20)):
        table = app.query_one(ImageTable)
        table.reset(sort_order="asc", creator=None)
        table.append_page([meta(n) for n in range(5)], complete=False)
        table.add_images([meta(50)])
        assert table.loaded_count == 5  # belongs after rows not loaded yet: paging brings it
        table.add_images([meta(2, id="between", uploaded=BASE + timedelta(minutes=2, seconds=30))])
        assert [m.id for m in table.loaded_images][3] == "between"  # where it belongs by time
        table.append_page([meta(n) for n in range(5, 8)], complete=True)
        table.add_images([meta(50)])
        assert table.loaded_images[-1].id == "id-050"
        table.add_images([meta(50, filename="again.png")])  # already listed: replaced, not doubled
        assert [m.id for m in table.loaded_images].count("id-050") == 1
        assert table.loaded_images[-1].filename == "again.png"


async def test_add_images_respects_the_creator_filter():
    app = TableApp()
    async with app.run_test(size=(100, 20)):
        table = app.query_one(ImageTable)
        table.reset(sort_order="desc", creator="bob")
        table.append_page([meta(1, creator="bob")], complete=True)
        table.add_images([meta(5, creator="alice"), meta(6, creator="bob")])
        assert [m.id for m in table.loaded_images] == ["id-006", "id-001"]


async def test_marks_and_clear_marks():
    app = TableApp()
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(ImageTable)
        table.append_page(desc_rows(6), complete=True)
        await pilot.press("space", "j", "space")
        assert [m.id for m in table.marked_images] == ["id-005", "id-003"]
        table.remove_images(["id-003"])
        assert [m.id for m in table.marked_images] == ["id-005"]
        table.clear_marks()
        assert table.marked_images == []


async def test_filter_narrows_widens_and_new_pages_respect_it():
    app = TableApp()
    async with app.run_test(size=(100, 20)):
        table = app.query_one(ImageTable)
        table.append_page(desc_rows(30), complete=False)
        table.set_filter("ID-01")
        assert [m.id for m in table.rows.view] == [f"id-{n:03d}" for n in range(19, 9, -1)]
        table.set_filter("id-015")  # narrowing
        assert [m.id for m in table.rows.view] == ["id-015"]
        table.set_filter("f2")  # widening to another query, by filename
        assert {m.id for m in table.rows.view} == {
            "id-002",
            "id-020",
            "id-021",
            "id-022",
            "id-023",
            "id-024",
            "id-025",
            "id-026",
            "id-027",
            "id-028",
            "id-029",
        }
        table.append_page([meta(200, filename="f2-late.png"), meta(300, filename="zzz.png")], complete=True)
        assert "id-200" in {m.id for m in table.rows.view} and "id-300" not in {m.id for m in table.rows.view}
        table.set_filter("")
        assert table.row_count == 32


async def test_filter_pages_only_on_a_key_press_at_its_end():
    app = TableApp()
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(ImageTable)
        table.append_page(desc_rows(60), complete=False)
        await pilot.pause()
        before = app.need_more
        table.set_filter("id-05")
        table.append_page([meta(500)], complete=False)  # a page arriving while filtering
        await pilot.pause()
        assert app.need_more == before  # no automatic paging behind a filter
        await pilot.press("G", "j")
        await pilot.pause()
        assert app.need_more == before + 1


async def test_control_characters_never_reach_the_terminal():
    app = TableApp()
    async with app.run_test(size=(100, 20)):
        table = app.query_one(ImageTable)
        table.append_page([meta(1, filename="evil\x1b[2Jname.png")], complete=True)
        line = table.render_line(1).text
        assert "\x1b" not in line and "evil" in line


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


async def test_textual_loading_indicator_works_and_the_status_row_is_separate():
    # Our status-row method once shadowed Widget.set_loading(loading), so Textual's own
    # `widget.loading = True` raised TypeError on the list.
    app = TableApp()
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(ImageTable)
        table.loading = True
        await pilot.pause()
        assert table.loading and table.load_state == "idle"
        table.loading = False
        table.show_loading_row()
        assert table.load_state == "loading"
        table.append_page(desc_rows(2), complete=True)
        assert table.load_state == "complete"


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
