"""ImageRows without Textual: paging, the quick filter, marks, inserts, removals, the cursor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from imgtui.service import ImageMetadata
from imgtui.workflows.image_rows import ImageRows, SortOrder

START = datetime(2026, 1, 1, tzinfo=UTC)


def image(n: int, *, filename: str | None = None, creator: str | None = None) -> ImageMetadata:
    """Image n was uploaded n minutes after START."""
    return ImageMetadata(
        id=f"id-{n:03d}",
        filename=filename if filename is not None else f"photo-{n:03d}.png",
        uploaded=START + timedelta(minutes=n),
        creator=creator,
    )


def newest_first(count: int) -> list[ImageMetadata]:
    return [image(n) for n in range(count - 1, -1, -1)]


def ids(images: object) -> list[str]:
    return [shown.id for shown in images]  # type: ignore[attr-defined]


def loaded(count: int, *, order: SortOrder = "desc", complete: bool = True) -> ImageRows:
    rows = ImageRows(sort_order=order)
    page = newest_first(count) if order == "desc" else list(reversed(newest_first(count)))
    rows.append_page(page, complete=complete)
    return rows


def test_empty_rows_have_no_current_and_every_operation_is_harmless() -> None:
    rows = ImageRows()
    assert rows.current is None and rows.current_id is None
    assert rows.cursor == 0 and rows.cursor_at_end
    assert rows.move_cursor(5) == 0 and rows.cursor == 0
    assert rows.toggle_mark() is False
    assert rows.clear_marks() is False
    assert rows.remove(["id-000"]) is False
    assert rows.set_filter("x") is True and list(rows.view) == []
    rows.mark_all()
    assert rows.marked_count == 0 and rows.marked_images == []
    assert rows.state == "idle" and not rows.is_complete


def test_append_page_skips_known_ids_and_sets_the_state() -> None:
    rows = ImageRows()
    assert rows.append_page(newest_first(3), complete=False) == 3
    assert rows.state == "idle"
    assert rows.append_page([image(1), image(7)], complete=True) == 1
    assert ids(rows.rows) == ["id-002", "id-001", "id-000", "id-007"]
    assert rows.is_complete and "id-007" in rows and "id-999" not in rows


def test_error_and_loading_states() -> None:
    rows = loaded(2, complete=False)
    rows.set_loading()
    assert rows.state == "loading" and rows.error == ""
    rows.set_error("boom")
    assert (rows.state, rows.error) == ("error", "boom")
    rows.append_page([], complete=False)
    assert (rows.state, rows.error) == ("idle", "")


def test_filter_narrows_widens_and_keeps_the_cursor_on_its_image() -> None:
    rows = loaded(30)
    rows.move_cursor(14)  # id-015
    assert rows.current_id == "id-015"
    assert rows.set_filter("  ID-01 ") is True  # trimmed, any case
    assert rows.filter_text == "id-01"
    assert ids(rows.view) == [f"id-{n:03d}" for n in range(19, 9, -1)]
    assert rows.current_id == "id-015"
    assert rows.set_filter("id-01") is False  # unchanged
    rows.set_filter("id-015")  # narrower
    assert ids(rows.view) == ["id-015"] and rows.cursor == 0
    rows.set_filter("id-0")  # wider again
    assert len(rows.view) == 30 and rows.current_id == "id-015"
    rows.set_filter("")
    assert rows.view is rows.rows and rows.current_id == "id-015"


def test_filter_matches_filenames_and_a_narrowing_that_loses_the_cursor_clamps_it() -> None:
    rows = ImageRows()
    rows.append_page(
        [image(3, filename="Cat.PNG"), image(2, filename="dog.png"), image(1, filename=None)], complete=True
    )
    rows.move_cursor(2)
    rows.set_filter("cat")
    assert ids(rows.view) == ["id-003"] and rows.cursor == 0
    rows.set_filter("nothing matches")
    assert list(rows.view) == [] and rows.current is None and rows.cursor == 0


def test_new_pages_respect_the_filter_and_update_the_cached_keys() -> None:
    rows = loaded(5, complete=False)
    rows.set_filter("id-00")
    assert len(rows.view) == 5
    rows.append_page([image(100), image(500)], complete=True)
    assert "id-100" not in ids(rows.view)
    rows.set_filter("id-")  # wider: scans the keys appended with the page too
    assert ids(rows.view)[-2:] == ["id-100", "id-500"]
    rows.set_filter("id-1")
    assert ids(rows.view) == ["id-100"]


def test_replace_updates_the_row_the_view_and_the_search_key() -> None:
    rows = loaded(3)
    rows.set_filter("photo")
    renamed = image(1, filename="holiday.jpg")
    assert rows.replace(renamed) is True
    assert rows.view[1].filename == "holiday.jpg" and rows.rows[1].filename == "holiday.jpg"
    rows.set_filter("holiday")
    assert ids(rows.view) == ["id-001"]
    assert rows.replace(image(42)) is False


def test_marks_survive_the_filter_and_mark_all_marks_only_what_is_shown() -> None:
    rows = loaded(20)
    rows.move_cursor(3)
    assert rows.toggle_mark() and rows.is_marked(rows.view[3].id)
    marked_id = rows.view[3].id  # id-016
    rows.set_filter("id-00")
    assert rows.marked_count == 1 and ids(rows.marked_images) == [marked_id]
    rows.mark_all()
    assert rows.marked_count == 11  # the 10 shown plus the hidden one
    rows.set_filter("")
    assert ids(rows.marked_images)[0] == marked_id  # in list order
    rows.move_cursor(3)
    rows.toggle_mark()
    assert not rows.is_marked(marked_id) and rows.marked_count == 10
    assert rows.clear_marks() is True and rows.marked_count == 0


def test_remove_moves_the_cursor_to_the_next_row_or_the_previous_at_the_end() -> None:
    rows = loaded(5)  # id-004 … id-000
    rows.move_cursor(1)
    rows.toggle_mark()
    assert rows.remove(["id-003"]) is True
    assert rows.current_id == "id-002" and rows.marked_count == 0
    rows.move_cursor(len(rows.view) - 1)
    assert rows.current_id == "id-000"
    rows.remove(["id-000"])  # removal at the end: the previous row
    assert rows.current_id == "id-001" and rows.cursor_at_end
    rows.remove(["id-004", "id-002", "id-001"])
    assert list(rows.view) == [] and rows.current is None
    assert "id-001" not in rows


def test_remove_of_another_row_keeps_the_cursor_on_its_image_under_a_filter() -> None:
    rows = loaded(12)
    rows.set_filter("id-01")  # id-011, id-010
    rows.move_cursor(1)
    rows.remove(["id-011", "id-003"])
    assert ids(rows.view) == ["id-010"] and rows.current_id == "id-010"


def test_insert_newest_first_goes_on_top_and_keeps_the_cursor_on_its_image() -> None:
    rows = loaded(5)
    rows.move_cursor(2)  # id-002
    assert rows.add([image(50)]) is True
    assert rows.view[0].id == "id-050" and rows.current_id == "id-002" and rows.cursor == 3


def test_insert_oldest_first_waits_for_the_last_page() -> None:
    rows = loaded(3, order="asc", complete=False)  # id-000, id-001, id-002
    assert rows.add([image(50)]) is False  # belongs after rows not loaded yet
    rows.append_page([], complete=True)
    assert rows.add([image(50)]) is True
    assert ids(rows.rows)[-1] == "id-050"


def test_insert_in_the_middle_by_upload_time_and_under_a_filter() -> None:
    rows = ImageRows(sort_order="desc")
    rows.append_page([image(9), image(5), image(1)], complete=True)
    rows.set_filter("photo-00")
    rows.add([image(7)])
    assert ids(rows.rows) == ["id-009", "id-007", "id-005", "id-001"]
    assert ids(rows.view) == ["id-009", "id-007", "id-005", "id-001"]
    rows.add([image(6, filename="other.png")])
    assert "id-006" in rows and "id-006" not in ids(rows.view)


def test_insert_skips_other_creators_and_replaces_known_ids() -> None:
    rows = ImageRows(sort_order="desc", creator="ann")
    rows.append_page([image(2, creator="ann")], complete=True)
    assert rows.add([image(3, creator="bob")]) is False
    assert rows.add([image(2, filename="new.png", creator="ann")]) is False  # replaced, not added
    assert rows.rows[0].filename == "new.png"


def test_reset_forgets_rows_and_marks_but_keeps_the_filter() -> None:
    rows = loaded(4)
    rows.set_filter("id-00")
    rows.mark_all()
    rows.move_cursor(3)
    rows.reset(sort_order="asc", creator="ann")
    assert list(rows.rows) == [] and rows.marked_count == 0 and rows.cursor == 0
    assert (rows.sort_order, rows.creator, rows.filter_text) == ("asc", "ann", "id-00")
    rows.append_page([image(1, creator="ann")], complete=True)
    assert ids(rows.view) == ["id-001"]


def test_move_cursor_clamps_and_returns_the_previous_row() -> None:
    rows = loaded(3)
    assert rows.move_cursor(-4) == 0 and rows.cursor == 0
    assert rows.move_cursor(99) == 0 and rows.cursor == 2 and rows.cursor_at_end
    rows.set_filter("id-000")
    rows.clamp_cursor()
    assert rows.cursor == 0
