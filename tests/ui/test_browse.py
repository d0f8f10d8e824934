"""Pilot tests of the browser against a real local library in a temp dir."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from textual.content import Content

from imgtui.backends.local import LocalBackend
from imgtui.service import ErrorCode, Images, ImagesError
from imgtui.ui.app import ImgTuiApp
from imgtui.ui.commands import ImgTuiCommands, palette_commands
from imgtui.ui.screens.choices import ChoiceScreen, CreatorScreen
from imgtui.ui.screens.help import HelpScreen
from imgtui.ui.screens.main import MainScreen
from imgtui.ui.widgets import table_layout
from imgtui.ui.widgets.image_table import ImageTable
from tests.ui.conftest import CREATORS

SIZE = (120, 36)


@pytest.fixture
async def filled(library_path, fill):
    images = Images.local(library_path)
    metas = await fill(images, 200)
    await images.aclose()
    return metas


def table_of(app: ImgTuiApp) -> ImageTable:
    return app.screen.query_one("#images", ImageTable)


def main_of(app: ImgTuiApp) -> MainScreen:
    screen = app.main_screen
    assert screen is not None
    return screen


async def loaded(pilot, wait_until, count: int) -> ImageTable:
    table = table_of(pilot.app)
    await wait_until(pilot, lambda: table.loaded_count >= count and table.load_state != "loading")
    return table


def plain_text(widget) -> str:
    """What a Static shows, as plain text (rich renderables and Content alike)."""
    console = Console(width=100, file=io.StringIO(), color_system=None)
    content = widget.content
    console.print(content.plain if isinstance(content, Content) else content)
    return console.file.getvalue()


def row_ids(table: ImageTable) -> list[str]:
    return [image.id for image in table.loaded_images]


async def test_every_row_is_reachable_and_G_goes_to_the_last_at_once(library_path, filled, wait_until):
    app = ImgTuiApp(Images.local(library_path))
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot, wait_until, 200)
        assert table.has_focus  # the list, not an Input, has focus (drops land on the screen)
        await wait_until(pilot, lambda: table.is_complete)
        assert row_ids(table)[0] == "img-0199"  # newest first
        await pilot.press("G")
        await wait_until(
            pilot, lambda: table.current_image is not None and table.current_image.id == "img-0000"
        )
        last_line = table.row_count - int(table.scroll_offset.y) + 1
        assert "200 images · end" in table.render_line(last_line).text
        # Only the rows around the screen are held, not the whole list.
        assert table.rows.cached_rows < 200
        await pilot.press("g")
        await wait_until(pilot, lambda: table.current_image.id == "img-0199")


async def test_scrolling_reads_rows_without_moving_the_cursor(library_path, filled, wait_until, pilot_wheel):
    app = ImgTuiApp(Images.local(library_path))
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot, wait_until, 200)
        await pilot_wheel(pilot, "#images", times=40)
        assert table.scroll_offset.y > 0 and table.cursor == 0
        table.scroll_end(animate=False, immediate=True)
        top = int(table.scroll_offset.y)
        # The rows scrolled to are read and shown (no placeholder left once they arrive).
        await wait_until(
            pilot, lambda: "img-0000" in "".join(table.render_line(y).text for y in range(1, 34))
        )
        assert top > 150 and table.cursor == 0


async def test_highlight_shows_details(library_path, filled, wait_until):
    app = ImgTuiApp(Images.local(library_path))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, wait_until, 40)
        details = app.screen.query_one("#details")
        await pilot.press("j", "j")
        await wait_until(pilot, lambda: details.shown is not None and details.shown.id == "img-0197")
        text = plain_text(details.query_one("#details-info"))
        assert "file-0197.png" in text and "carol" in text
        assert "PNG · 4\u00d73 px" in text  # local library extras: format, dimensions, size
        assert '"n": 197' in plain_text(details.query_one("#details-meta"))
        variants = plain_text(details.query_one("#details-variants"))
        assert "/img-0197/public" in variants
        assert "served by `imgtui serve` (port 8790)" in variants  # local URLs need it running


async def test_details_debounce_drops_stale_answers(library_path, filled, wait_until):
    app = ImgTuiApp(Images.local(library_path))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, wait_until, 40)
        details = app.screen.query_one("#details")
        await pilot.press(*"jjjjj")  # faster than the debounce: only the last one is fetched
        await wait_until(pilot, lambda: details.shown is not None and details.shown.id == "img-0194")
        await pilot.pause(0.3)
        assert details.shown.id == "img-0194"
        assert details.border_title == "img-0194"


async def test_quick_filter(library_path, filled, wait_until):
    app = ImgTuiApp(Images.local(library_path))
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot, wait_until, 200)
        await pilot.press("slash")
        field = app.screen.query_one("#quick-filter")
        assert field.has_focus and field.display
        await pilot.press(*"FILE-0015")  # any case, matches the filename, over every row
        await wait_until(pilot, lambda: row_ids(table) == ["img-0015"])
        assert table.current_image.id == "img-0015"
        await pilot.press("enter")
        assert table.has_focus and table.filter_text == "FILE-0015"
        await pilot.press("slash", "escape")
        await wait_until(pilot, lambda: table.row_count == 200)
        assert table.filter_text == ""
        assert table.has_focus and not field.display


async def test_search_clauses_count_and_n_steps_through_matches(library_path, filled, wait_until):
    app = ImgTuiApp(Images.local(library_path))
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot, wait_until, 200)
        await pilot.press("slash", *"creator:bob meta.n>=100", "enter")
        expected = [f"img-{n:04d}" for n in range(199, 99, -1) if CREATORS[n % len(CREATORS)] == "bob"]
        await wait_until(pilot, lambda: table.row_count == len(expected))
        assert row_ids(table) == expected
        status = plain_text(app.screen.query_one("#status"))
        assert f"{len(expected)} found" in status and "ran on the catalogue" in status
        await pilot.press("n")
        await wait_until(pilot, lambda: table.current_image.id == expected[1])
        await pilot.press("N", "N")
        await wait_until(pilot, lambda: table.current_image.id == expected[-1])  # wraps around


async def test_a_bad_clause_says_why_inline_and_keeps_the_list(library_path, filled, wait_until):
    app = ImgTuiApp(Images.local(library_path))
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot, wait_until, 200)
        note = app.screen.query_one("#search-note")
        for bad, message in (
            ("meta.n>=abc", "compares numbers"),
            ("uploaded>yesterday", "not a date"),
            ("format:exe", "format: is one of"),
            ('"open', "unclosed quote"),
            ("colour:red", "unknown field colour"),
        ):
            await pilot.press("slash")
            app.screen.query_one("#quick-filter").value = bad
            await wait_until(pilot, lambda m=message: note.display and m in plain_text(note))
            assert table.row_count == 200 and app.is_running
            await pilot.press("escape")
        await wait_until(pilot, lambda: not note.display)


async def test_escape_on_the_list_clears_the_filter_box_and_status_too(library_path, filled, wait_until):
    app = ImgTuiApp(Images.local(library_path))
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot, wait_until, 200)
        await pilot.press("slash", *"file-0195", "enter")
        status = app.screen.query_one("#status")
        await wait_until(pilot, lambda: "search" in plain_text(status))
        await pilot.press("escape")  # the list has focus: escape clears the filter
        field = app.screen.query_one("#quick-filter")
        await wait_until(pilot, lambda: table.row_count == 200)
        assert table.filter_text == "" and field.value == "" and not field.display
        assert "search" not in plain_text(status)


async def test_enter_offers_the_row_actions(library_path, filled, wait_until):
    app = ImgTuiApp(Images.local(library_path))
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot, wait_until, 40)
        await pilot.press("enter")
        await pilot.pause()
        menu = app.screen
        assert isinstance(menu, ChoiceScreen) and menu.title_text == table.current_image.id
        await pilot.press("enter")  # the first action: edit metadata
        await wait_until(pilot, lambda: type(app.screen).__name__ == "EditMetadataModal")


async def test_creator_filter_is_a_clause(library_path, filled, wait_until):
    app = ImgTuiApp(Images.local(library_path))
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot, wait_until, 200)
        await wait_until(pilot, lambda: table.is_complete)
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, CreatorScreen))
        await pilot.press(*"bob", "enter")
        await wait_until(
            pilot, lambda: table.row_count == sum(1 for n in range(200) if CREATORS[n % 3] == "bob")
        )
        assert {image.creator for image in table.loaded_images} == {"bob"}
        assert main_of(app).creator == "bob"
        assert 'creator:"bob"' in plain_text(app.screen.query_one("#status"))
        # Empty means every creator again.
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, CreatorScreen))
        await pilot.press("ctrl+u", "enter")  # ctrl+u clears the Input
        await wait_until(pilot, lambda: table.row_count == 200)
        assert main_of(app).creator is None


async def test_sort_toggle_and_refresh(library_path, filled, fill, wait_until):
    app = ImgTuiApp(Images.local(library_path))
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot, wait_until, 40)
        await pilot.press("s")
        await pilot.pause()
        table = await loaded(pilot, wait_until, 40)
        assert row_ids(table)[:2] == ["img-0000", "img-0001"]  # oldest first
        await pilot.press("s")
        await pilot.pause()
        await loaded(pilot, wait_until, 40)
        assert row_ids(table)[0] == "img-0199"
        # Uploaded elsewhere: `r` shows it.
        await fill(app.images, 1, prefix="late")
        await pilot.press("r")
        await pilot.pause()
        await loaded(pilot, wait_until, 40)
        assert row_ids(table)[0] == "late-0000"


async def test_marks(library_path, filled, wait_until):
    app = ImgTuiApp(Images.local(library_path))
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot, wait_until, 40)
        await pilot.press("space", "space")  # marks and moves down
        assert [image.id for image in table.marked_images] == ["img-0199", "img-0198"]
        assert table.cursor == 2
        assert "●" in table.render_line(1).text
        await pilot.pause()
        assert "2 marked" in str(app.screen.query_one("#status").render())
        await pilot.press("k", "space")  # unmark
        assert [image.id for image in table.marked_images] == ["img-0199"]
        await pilot.press("asterisk")
        assert len(table.marked_images) == table.loaded_count
        await pilot.press("escape")
        assert table.marked_images == []
        await pilot.press("ctrl+a")
        assert len(table.marked_images) == table.loaded_count
        await pilot.press("ctrl+u")
        assert table.marked_images == []


async def test_copy_id_and_url(library_path, filled, wait_until):
    app = ImgTuiApp(Images.local(library_path))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, wait_until, 40)
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        labels = [choice.label for choice in app.screen.choices]
        assert labels[:2] == ["ID", "Filename"]
        assert "public URL" in labels
        await pilot.press("enter")  # the first choice: the id
        await pilot.pause()
        assert app.clipboard == "img-0199"
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        await pilot.press("down", "down", "enter")
        await pilot.pause()
        assert app.clipboard.startswith("http") and app.clipboard.endswith("/img-0199/public")
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert app.clipboard.endswith("/public")  # unchanged


async def test_copy_offers_signed_urls_for_private_images(library_path, fill, png, wait_until):
    images = Images.local(library_path)
    await fill(images, 3)
    private = await images.hosted.upload(png, filename="secret.png", require_signed_urls=True)
    await images.aclose()
    app = ImgTuiApp(Images.local(library_path))
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot, wait_until, 4)
        assert table.current_image.id == private.id
        assert table_layout.LOCK_GLYPH in table.render_line(1).text
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        signed = [choice for choice in app.screen.choices if "signed" in choice.label]
        assert signed and all("sig=" in choice.value and "exp=" in choice.value for choice in signed)


async def test_help_screen_lists_keys_by_group(library_path, filled, wait_until):
    app = ImgTuiApp(Images.local(library_path))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, wait_until, 40)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        groups = app.screen.keys_by_group
        assert {"Move", "Mark", "Find & sort", "View", "Copy", "App"} <= groups.keys()
        assert any("space" in keys for keys, _ in groups["Mark"])
        assert any(keys == "/" for keys, _ in groups["Find & sort"])
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("q")  # closes the help, not the app
        assert isinstance(app.screen, MainScreen)
        assert app.is_running


async def test_command_palette_has_imgtui_commands(library_path, filled, wait_until):
    app = ImgTuiApp(Images.local(library_path))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, wait_until, 40)
        assert ImgTuiCommands in app.COMMANDS
        commands = {command.title: command for command in palette_commands(app.screen)}
        assert {"Refresh", "Sort order", "Creator filter…", "Copy…", "Toggle preview", "Help"} <= set(
            commands
        )
        commands["Sort order"].run()
        await wait_until(pilot, lambda: main_of(app).list_order == "asc")
        commands["Mark all"].run()
        await wait_until(pilot, lambda: table_of(app).marked_count == table_of(app).row_count)
        commands["Clear marks"].run()
        assert table_of(app).marked_count == 0
        commands["Help"].run()
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert [command.title for command in palette_commands(app.screen)] == ["Help"]


async def test_command_palette_search_finds_imgtui_commands(library_path, filled, wait_until):
    app = ImgTuiApp(Images.local(library_path))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, wait_until, 40)
        provider = ImgTuiCommands(app.screen)
        hits = [hit async for hit in provider.search("sort")]
        texts = [hit.text for hit in hits]
        assert "Sort order" in texts and "Refresh" not in texts
        discovered = [hit.text async for hit in provider.discover()]
        assert "Refresh" in discovered and "Last loaded image" in discovered


async def test_theme_choice_persists(library_path, _isolated_config, wait_until):
    app = ImgTuiApp(Images.local(library_path))
    async with app.run_test(size=SIZE) as pilot:
        app.theme = "nord"
        config_file = _isolated_config / "config.toml"
        await wait_until(pilot, lambda: config_file.exists())
        await app.workers.wait_for_complete()
    assert 'theme = "nord"' in config_file.read_text()
    second = ImgTuiApp(Images.local(library_path))
    async with second.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert second.theme == "nord"


async def test_toggle_preview(library_path, filled, wait_until):
    app = ImgTuiApp(Images.local(library_path), preview_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, wait_until, 40)
        preview = app.screen.query_one("#preview")
        assert preview.display
        await pilot.press("v")
        assert not preview.display
        await pilot.press("v")
        assert preview.display


async def test_mouse_click_selects_a_row(library_path, filled, wait_until):
    app = ImgTuiApp(Images.local(library_path))
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot, wait_until, 40)
        await pilot.click("#images", offset=(5, 4))  # line 0 is the header: row 3
        assert table.cursor == 3
        assert table.current_image.id == "img-0196"
        await pilot.click("#images", offset=(5, 0))  # the header does nothing
        assert table.cursor == 3


# ----------------------------------------------------------------- errors


class FailingDetails(LocalBackend):
    async def file_info(self, image_id):
        raise ImagesError(ErrorCode.STORAGE, "disk on fire")


class FailingList(LocalBackend):
    fail = True

    async def list(self, **kwargs):
        if self.fail:
            raise ImagesError(ErrorCode.NETWORK, "cannot reach the library")
        return await super().list(**kwargs)


class BuggyList(LocalBackend):
    async def list(self, **kwargs):
        raise RuntimeError("a bug, not an I/O error")


async def test_details_error_shows_code_and_message(library_path, filled, wait_until):
    app = ImgTuiApp(Images(FailingDetails(library_path)))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, wait_until, 40)
        details = app.screen.query_one("#details")
        info = details.query_one("#details-info")
        await wait_until(pilot, lambda: "ERROR 9001" in plain_text(info))
        assert "disk on fire" in plain_text(info)
        assert app.is_running


async def test_deleted_image_shows_not_found(library_path, filled, wait_until):
    app = ImgTuiApp(Images.local(library_path))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, wait_until, 40)
        assert await app.images.hosted.image("img-0198").delete()
        await pilot.press("j")
        info = app.screen.query_one("#details-info")
        await wait_until(pilot, lambda: "Image not found" in plain_text(info))


async def test_list_error_notifies_and_retry_works(library_path, filled, wait_until):
    backend = FailingList(library_path)
    app = ImgTuiApp(Images(backend))
    async with app.run_test(size=SIZE) as pilot:
        table = table_of(app)
        await wait_until(pilot, lambda: table.load_state == "error")
        await wait_until(pilot, lambda: any("ERROR 9000" in n.message for n in app._notifications))
        assert "ERROR 9000: cannot reach the library" in table.render_line(1).text
        assert app.is_running
        backend.fail = False
        await pilot.press("r")
        await wait_until(pilot, lambda: table.is_complete)
        assert table.loaded_count == 200


async def test_unexpected_worker_error_keeps_the_app_alive(library_path, filled, wait_until):
    app = ImgTuiApp(Images(BuggyList(library_path)))
    async with app.run_test(size=SIZE) as pilot:
        table = table_of(app)
        await wait_until(pilot, lambda: table.load_state == "error")
        await wait_until(pilot, lambda: any("RuntimeError" in n.message for n in app._notifications))
        await pilot.press("j", "r")
        await pilot.pause()
        assert app.is_running


async def test_failed_refresh_keeps_the_catalogue_on_screen_read_only(library_path, filled, wait_until):
    backend = FailingList(library_path)
    backend.fail = False
    app = ImgTuiApp(Images(backend))
    async with app.run_test(size=SIZE) as pilot:
        table = table_of(app)
        await loaded(pilot, wait_until, 200)
        await wait_until(pilot, lambda: table.is_complete)
        before = row_ids(table)
        backend.fail = True
        await pilot.press("r")
        status = app.screen.query_one("#status")
        await wait_until(pilot, lambda: "offline: catalogue as of" in plain_text(status))
        assert row_ids(table) == before and table.current_image is not None and app.is_running
        # Sorting needs no server: the catalogue answers it.
        await pilot.press("s")
        await wait_until(pilot, lambda: row_ids(table) and row_ids(table)[0] == "img-0000")
        assert app.screen.list_order == "asc"


async def test_empty_library_says_how_to_add_images(library_path, wait_until):
    app = ImgTuiApp(Images.local(library_path))
    async with app.run_test(size=SIZE) as pilot:
        table = table_of(app)
        await wait_until(pilot, lambda: table.load_state == "complete")
        assert "press u to upload" in table.render_line(1).text


async def test_row_action_menu_keys_pick_at_once(library_path, filled, wait_until):
    app = ImgTuiApp(Images.local(library_path))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, wait_until, 40)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("d")  # the menu's key for delete
        await wait_until(pilot, lambda: type(app.screen).__name__ == "ConfirmDeleteModal")


async def test_a_wide_list_shows_size_pixels_and_type_of_a_local_library(library_path, filled, wait_until):
    # Issue 14, trip 6: the backend knows the stored files, and there is room.
    app = ImgTuiApp(Images.local(library_path))
    async with app.run_test(size=(200, 50)) as pilot:
        table = await loaded(pilot, wait_until, 40)
        await wait_until(pilot, lambda: table.file_facts_known)
        await wait_until(pilot, lambda: "\u00d7" in table.render_line(1).text)
        header = table.render_line(0).text
        assert "SIZE" in header and "PIXELS" in header  # TYPE too, from a ~230-column terminal
        assert filled[-1].id in table.render_line(1).text  # the whole id


async def test_a_50_column_terminal_keeps_the_list_inside_its_border(library_path, filled, wait_until):
    # Issue 14, trip 6: at 50 columns the list used to overflow (list 40 + details 34 cells).
    app = ImgTuiApp(Images.local(library_path))
    async with app.run_test(size=(50, 20)) as pilot:
        table = await loaded(pilot, wait_until, 40)
        pane = app.screen.query_one("#list-pane")
        assert pane.region.right <= 50 and not app.screen.query_one("#details").display
        assert "img-0199" in table.render_line(1).text


async def test_v_is_saved_and_r_retries_the_current_row(library_path, filled, wait_until, monkeypatch):
    # Issue 14, trips 8 and 9: the preview choice survives a restart; a transient error on
    # the details is retried (with backoff), and `r` retries at once.
    from imgtui.service import ImagesError
    from imgtui.ui.config import load_config
    from imgtui.workflows import retry

    monkeypatch.setattr(retry, "READ_BACKOFF", ())  # no automatic retry: `r` must do it
    app = ImgTuiApp(Images.local(library_path), preview_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, wait_until, 40)
        await pilot.press("v")
        await wait_until(pilot, lambda: load_config().preview_shown is False)
        details = main_of(app).details
        original = type(app.images.hosted.image("x")).file_info
        failing = {"left": 1}

        async def flaky(handle):
            if failing["left"]:
                failing["left"] -= 1
                raise ImagesError(500, "Internal server error")
            return await original(handle)

        monkeypatch.setattr(type(app.images.hosted.image("x")), "file_info", flaky)
        details.reload()
        await wait_until(pilot, lambda: "ERROR 500" in plain_text(details.info))
        await pilot.press("r")
        await wait_until(pilot, lambda: details.shown is not None and "ERROR" not in plain_text(details.info))
    app = ImgTuiApp(Images.local(library_path), preview_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, wait_until, 40)
        assert not main_of(app).details.preview.display


async def test_a_passing_error_on_the_details_is_retried_by_itself(
    library_path, filled, wait_until, monkeypatch
):
    from imgtui.service import ImagesError
    from imgtui.workflows import retry

    monkeypatch.setattr(retry, "READ_BACKOFF", (0.01, 0.01))
    app = ImgTuiApp(Images.local(library_path))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, wait_until, 40)
        details = main_of(app).details
        handle_type = type(app.images.hosted.image("x"))
        original = handle_type.file_info
        failing = {"left": 2}

        async def flaky(handle):
            if failing["left"]:
                failing["left"] -= 1
                raise ImagesError(503, "Service unavailable")
            return await original(handle)

        monkeypatch.setattr(handle_type, "file_info", flaky)
        details.reload()
        await wait_until(pilot, lambda: failing["left"] == 0 and details.shown is not None)
        assert "ERROR" not in plain_text(details.info)
