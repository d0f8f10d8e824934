"""The editing workflows end to end, from the real main screen of the real app.

Each test starts `ImgTuiApp` over a real local library in a tmp dir (behind the recording
backend of test_modal_kit, which can inject an ImagesError per call) and drives it with keys
and pastes the way a user does: e, p, Y, u, drops, d, o.
"""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import pytest
from rich.console import Console
from textual import events
from textual.content import Content
from textual.widgets import Button, Checkbox, Input, Select, Static, TextArea

from imgtui.service import ErrorCode, Images, ImagesError
from imgtui.ui.app import ImgTuiApp
from imgtui.ui.modals import (
    ConfirmDeleteModal,
    DownloadModal,
    EditMetadataModal,
    SignedUrlCopyModal,
    SignedUrlsModal,
    UploadModal,
)
from imgtui.ui.modals.upload import QueueRow
from imgtui.ui.screens.main import MainScreen
from imgtui.ui.widgets import table_layout
from imgtui.ui.widgets.image_table import ImageTable

try:
    from .test_modal_kit import RecordingBackend, png_bytes
except ImportError:
    from test_modal_kit import RecordingBackend, png_bytes  # type: ignore[no-redef]

SIZE = (120, 36)
# The library every test starts from, newest first on screen: the UUID-id image on top, then
# custom ids `pic-4` ... `pic-0`.
CUSTOM_COUNT = 5


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(autouse=True)
def _instant_buttons(monkeypatch: pytest.MonkeyPatch) -> None:
    """Button's 0.2 s "pressed" effect ignores a second press: tests press faster than people."""
    monkeypatch.setattr(Button, "_start_active_affect", lambda self: None)


@pytest.fixture
async def seeded(library_path: Path) -> dict[str, bytes]:
    """Five custom-id images and one UUID-id image; returns each id's original bytes."""
    images = Images.local(library_path)
    originals: dict[str, bytes] = {}
    for index in range(CUSTOM_COUNT):
        data = png_bytes((index * 40, 20, 20))
        await images.hosted.upload(
            data, id=f"pic-{index}", filename=f"pic-{index}.png", creator="alice", metadata={"n": index}
        )
        originals[f"pic-{index}"] = data
    data = png_bytes((1, 200, 1))
    uuid_image = await images.hosted.upload(data, filename="uuid.png")
    originals[uuid_image.id] = data
    await images.aclose()
    return originals


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """Files to upload: two good PNGs (one with a space), one text file named .png, and a
    folder `album` holding copies of the two good ones."""
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "My File.png").write_bytes(png_bytes((9, 9, 200)))
    (folder / "b.png").write_bytes(png_bytes((9, 200, 9)))
    (folder / "bad.png").write_text("not an image at all")
    (folder / "album").mkdir()
    for name in ("My File.png", "b.png"):
        (folder / "album" / name).write_bytes((folder / name).read_bytes())
    return folder


def start(library_path: Path) -> tuple[ImgTuiApp, RecordingBackend]:
    real = Images.local(library_path)
    backend = RecordingBackend(real.backend)
    return ImgTuiApp(Images(backend)), backend  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- helpers


def table_of(app: ImgTuiApp) -> ImageTable:
    main = app.main_screen
    assert main is not None
    return main.table


def main_of(app: ImgTuiApp) -> MainScreen:
    main = app.main_screen
    assert main is not None
    return main


def plain(widget: Static) -> str:
    content = widget.content
    if isinstance(content, str):
        content = Content.from_markup(content)
    if isinstance(content, Content):
        return content.plain
    console = Console(width=120, file=io.StringIO(), color_system=None)
    console.print(content)
    return console.file.getvalue()


def ids(app: ImgTuiApp) -> list[str]:
    return [image.id for image in table_of(app).loaded_images]


def status(app: ImgTuiApp) -> str:
    return plain(main_of(app).query_one("#status", Static))


async def ready(pilot, wait_until, count: int = CUSTOM_COUNT + 1) -> ImageTable:
    table = table_of(pilot.app)
    await wait_until(pilot, lambda: table.loaded_count >= count and table.is_complete)
    return table


async def details_show(pilot, wait_until, image_id: str, *needles: str) -> str:
    """Wait until the details panel shows `image_id` with every needle in its text."""
    details = main_of(pilot.app).details

    def text() -> str:
        return "".join(plain(widget) for widget in details.query(Static))

    await wait_until(
        pilot,
        lambda: (
            details.shown is not None
            and details.shown.id == image_id
            and all(needle in text() for needle in needles)
        ),
    )
    return text()


async def opened(pilot, wait_until, kind: type):
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, kind))
    return pilot.app.screen


async def back_on_main(pilot, wait_until) -> None:
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, MainScreen))
    await pilot.pause()


async def move_to(pilot, image_id: str) -> None:
    table = table_of(pilot.app)
    table.move_cursor(ids(pilot.app).index(image_id))
    await pilot.pause()
    assert table.current_image is not None and table.current_image.id == image_id


def uuid_id(app: ImgTuiApp) -> str:
    return next(image_id for image_id in ids(app) if not image_id.startswith("pic-"))


def form_error(screen) -> str:
    return plain(screen.query_one("#form-error", Static))


# ----------------------------------------------------------------------------- e: metadata


async def test_edit_metadata_shows_in_row_and_details_without_reload(library_path, seeded, wait_until):
    app, backend = start(library_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, wait_until)
        await move_to(pilot, "pic-3")
        await pilot.press("e")
        form = await opened(pilot, wait_until, EditMetadataModal)
        assert form.query_one("#metadata", TextArea).has_focus
        form.query_one("#metadata", TextArea).text = '{"alt": "a red square", "n": 33}'
        form.query_one("#creator", Input).value = "zed"
        await pilot.press("ctrl+s")
        await back_on_main(pilot, wait_until)
        assert "list" not in backend.names()[-3:]  # no reload
        current = table_of(app).current_image
        assert current.id == "pic-3" and current.meta == {"alt": "a red square", "n": 33}
        assert current.creator == "zed"
        row = table_of(app).render_line(1 + table_of(app).cursor - int(table_of(app).scroll_offset.y))
        assert "zed" in row.text
        await details_show(pilot, wait_until, "pic-3", "zed", '"alt": "a red square"')
        assert any(n.message == "Metadata saved for pic-3" for n in app._notifications)


async def test_edit_metadata_enter_in_creator_saves(library_path, seeded, wait_until):
    app, backend = start(library_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, wait_until)
        await pilot.press("e")
        form = await opened(pilot, wait_until, EditMetadataModal)
        form.query_one("#creator", Input).focus()
        form.query_one("#creator", Input).value = "bob"
        await pilot.press("enter")
        await back_on_main(pilot, wait_until)
        assert table_of(app).current_image.creator == "bob"
        assert backend.names().count("update") == 1


async def test_invalid_json_keeps_save_disabled_and_escape_changes_nothing(library_path, seeded, wait_until):
    app, backend = start(library_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, wait_until)
        await move_to(pilot, "pic-1")
        await pilot.press("e")
        form = await opened(pilot, wait_until, EditMetadataModal)
        form.query_one("#metadata", TextArea).text = '{"alt": '
        await pilot.pause()
        assert form.query_one("#save", Button).disabled
        assert "Invalid JSON" in plain(form.query_one("#metadata-error", Static))
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, EditMetadataModal)
        await pilot.press("escape")  # edited: it asks before throwing the edit away
        await pilot.pause()
        assert type(app.screen).__name__ == "ConfirmDiscardModal"
        await pilot.press("y")
        await back_on_main(pilot, wait_until)
        assert "update" not in backend.names()
        assert table_of(app).current_image.meta == {"n": 1}


async def test_metadata_service_failure_is_shown_in_the_form_and_keeps_the_text(
    library_path, seeded, wait_until
):
    app, backend = start(library_path)
    backend.fail["update"] = ImagesError(ErrorCode.STORAGE, "disk full")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, wait_until)
        await pilot.press("e")
        form = await opened(pilot, wait_until, EditMetadataModal)
        typed = '{"alt": "kept"}'
        form.query_one("#metadata", TextArea).text = typed
        await pilot.click("#save")
        await wait_until(pilot, lambda: f"ERROR {ErrorCode.STORAGE.value}" in form_error(form))
        assert "disk full" in form_error(form)
        assert form.query_one("#metadata", TextArea).text == typed
        assert not form.busy and not form.query_one("#save", Button).disabled
        assert isinstance(app.screen, EditMetadataModal)


# ----------------------------------------------------------------------------- p and Y


async def test_make_private_and_public_again(library_path, seeded, wait_until):
    app, _ = start(library_path)
    async with app.run_test(size=SIZE) as pilot:
        table = await ready(pilot, wait_until)
        target = uuid_id(app)
        await move_to(pilot, target)
        await pilot.press("p")
        form = await opened(pilot, wait_until, SignedUrlsModal)
        assert form.query_one("#confirm", Button).has_focus
        await pilot.press("enter")
        await back_on_main(pilot, wait_until)
        assert table.current_image.require_signed_urls
        assert table_layout.LOCK_GLYPH in table.render_line(1 + table.cursor).text
        await details_show(pilot, wait_until, target, "signed URLs required")
        assert any(n.message.startswith(f"{target} is now private") for n in app._notifications)
        await pilot.press("p")
        form = await opened(pilot, wait_until, SignedUrlsModal)
        assert str(form.query_one("#confirm", Button).label) == "Make public"
        await pilot.press("enter")
        await back_on_main(pilot, wait_until)
        assert not table.current_image.require_signed_urls
        await details_show(pilot, wait_until, target, "public")


async def test_custom_id_image_cannot_be_made_private(library_path, seeded, wait_until):
    app, backend = start(library_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, wait_until)
        await move_to(pilot, "pic-2")
        await pilot.press("p")
        form = await opened(pilot, wait_until, SignedUrlsModal)
        assert form.query_one("#confirm", Button).disabled
        assert "custom ID" in plain(form.query_one("#signed-refused", Static))
        assert form.query_one("#cancel", Button).has_focus
        await pilot.press("enter")
        await back_on_main(pilot, wait_until)
        assert "update" not in backend.names()
        assert not table_of(app).current_image.require_signed_urls


async def test_copy_signed_url(library_path, seeded, wait_until):
    app, _ = start(library_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, wait_until)
        target = uuid_id(app)
        await move_to(pilot, target)
        await pilot.press("Y")
        form = await opened(pilot, wait_until, SignedUrlCopyModal)
        await pilot.press("enter")
        await wait_until(pilot, lambda: form.url is not None)
        assert app.clipboard == form.url
        assert f"/{target}/public?" in app.clipboard
        assert "exp=" in app.clipboard and "sig=" in app.clipboard
        assert str(form.query_one("#cancel", Button).label) == "Close"
        # Another expiry after a copy: the button offers to make a new URL again.
        form.query_one("#expiry", Select).value = "never"
        await pilot.pause()
        assert str(form.query_one("#copy", Button).label) == "Copy URL"
        await pilot.click("#copy")
        await wait_until(pilot, lambda: form.url is not None)
        assert app.clipboard == form.url and "exp=" not in form.url and "sig=" in form.url
        await pilot.press("enter")  # "Done"
        await back_on_main(pilot, wait_until)
        assert app.clipboard == form.url


# ----------------------------------------------------------------------------- u: upload


async def add_path(pilot, form: UploadModal, path: Path) -> None:
    field = form.query_one("#path", Input)
    field.focus()
    field.value = str(path)
    count = len(form.run.items)
    await pilot.press("enter")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    assert len(form.run.items) == count + 1, f"{path} was not queued"


@pytest.mark.parametrize("sort_order", ["desc", "asc"])
async def test_upload_typed_paths_one_failing(library_path, seeded, files, wait_until, sort_order):
    app, _ = start(library_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, wait_until)
        if sort_order == "asc":
            await pilot.press("s")
            await ready(pilot, wait_until)
        before = ids(app)
        current = table_of(app).current_image.id
        await pilot.press("u")
        form = await opened(pilot, wait_until, UploadModal)
        assert form.query_one("#path", Input).has_focus
        for name in ("My File.png", "bad.png", "b.png"):
            await add_path(pilot, form, files / name)
        await pilot.press("enter")  # Enter on the emptied path field uploads the queue
        await wait_until(pilot, lambda: form.queue is not None and not form.busy)
        bad_row = next(row for row in form.query(QueueRow) if row.item.name == "bad.png")
        assert f"ERROR {ErrorCode.UNSUPPORTED_IMAGE.value}" in plain(bad_row.query_one(".queue-error"))
        assert str(form.query_one("#cancel", Button).label) == "Close"
        await pilot.press("escape")
        await back_on_main(pilot, wait_until)
        after = ids(app)
        new = [image_id for image_id in after if image_id not in before]
        assert len(new) == 2
        names = {image.filename for image in table_of(app).loaded_images if image.id in new}
        assert names == {"My File.png", "b.png"}
        if sort_order == "desc":
            assert set(after[:2]) == set(new)
        else:
            assert set(after[-2:]) == set(new)
        assert table_of(app).current_image.id == current  # the cursor stays on its image
        assert f"{len(before) + 2} loaded" in status(app)
        stored = [await app.images.hosted.image(image_id).details() for image_id in new]
        assert all(image is not None for image in stored)


# ----------------------------------------------------------------------------- drops


def drop_texts(folder: Path) -> dict[str, tuple[str, set[str]]]:
    """Each terminal's way of pasting a drop, and the file names it must queue."""
    spaced, plain_name = folder / "My File.png", folder / "b.png"
    both = {"My File.png", "b.png"}
    return {
        "vte-single-quotes": (f"'{spaced}' '{plain_name}' ", both),
        "kitty-newlines": (f"{spaced}\n{plain_name}\n", both),
        "backslash-escapes": (f"{str(spaced).replace(' ', chr(92) + ' ')} {plain_name}", both),
        "windows-double-quotes": (f'"{spaced}" "{plain_name}"', both),
        "file-uris": (f"{spaced.as_uri()}\r\n{plain_name.as_uri()}", both),
        "directory": (f"'{folder / 'album'}' ", both),
    }


@pytest.mark.parametrize(
    "style",
    [
        "vte-single-quotes",
        "kitty-newlines",
        "backslash-escapes",
        "windows-double-quotes",
        "file-uris",
        "directory",
    ],
)
async def test_drop_opens_upload_with_upload_focused(library_path, seeded, files, wait_until, style):
    text, expected = drop_texts(files)[style]
    app, _ = start(library_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, wait_until)
        app.post_message(events.Paste(text))
        form = await opened(pilot, wait_until, UploadModal)
        await wait_until(pilot, lambda: len(form.run.items) == len(expected))
        assert {item.name for item in form.run.items} == expected
        await pilot.pause()
        assert form.query_one("#upload", Button).has_focus
        await pilot.press("enter")
        await back_on_main(pilot, wait_until)
        uploaded = {image.filename for image in table_of(app).loaded_images[:2]}
        assert uploaded == expected
        assert f"{CUSTOM_COUNT + 3} loaded" in status(app)


async def test_paste_naming_no_file_warns_and_opens_nothing(library_path, seeded, wait_until, tmp_path):
    app, backend = start(library_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, wait_until)
        app.post_message(events.Paste(f"hello world {tmp_path}/missing.png"))
        await wait_until(pilot, lambda: any(n.title == "Nothing to upload" for n in app._notifications))
        assert isinstance(app.screen, MainScreen)
        assert "upload" not in backend.names()


async def test_paste_into_the_quick_filter_goes_to_the_input(library_path, seeded, files, wait_until):
    app, _ = start(library_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, wait_until)
        await pilot.press("slash")
        field = main_of(app).quick_filter
        assert field.has_focus
        app.post_message(events.Paste(f"'{files / 'b.png'}' "))
        await wait_until(pilot, lambda: field.value != "")
        await pilot.pause(0.1)
        assert isinstance(app.screen, MainScreen)
        assert "b.png" in field.value


# ----------------------------------------------------------------------------- d: delete


async def test_delete_current_image(library_path, seeded, wait_until):
    app, backend = start(library_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, wait_until)
        await move_to(pilot, "pic-3")
        await pilot.press("d")
        form = await opened(pilot, wait_until, ConfirmDeleteModal)
        assert "pic-3  pic-3.png" in plain(form.query_one("#delete-targets", Static))
        assert form.query_one("#cancel", Button).has_focus
        await pilot.press("enter")  # Enter on Cancel keeps it
        await back_on_main(pilot, wait_until)
        assert "delete" not in backend.names() and "pic-3" in ids(app)
        await pilot.press("delete")
        await opened(pilot, wait_until, ConfirmDeleteModal)
        await pilot.press("y")
        await back_on_main(pilot, wait_until)
        assert "pic-3" not in ids(app)
        assert table_of(app).current_image.id == "pic-2"  # the next row takes its place
        await details_show(pilot, wait_until, "pic-2", "pic-2.png")
        assert f"{CUSTOM_COUNT} loaded" in status(app)
        assert await app.images.hosted.image("pic-3").details() is None


async def test_delete_three_marked(library_path, seeded, wait_until):
    app, _ = start(library_path)
    async with app.run_test(size=SIZE) as pilot:
        table = await ready(pilot, wait_until)
        await move_to(pilot, "pic-4")
        await pilot.press("space", "space", "space")  # pic-4, pic-3, pic-2; cursor on pic-1
        assert "3 marked" in status(app)
        await pilot.press("d")
        form = await opened(pilot, wait_until, ConfirmDeleteModal)
        assert "Delete these 3 images" in plain(form.query_one(".modal-intro", Static))
        await pilot.press("y")
        await back_on_main(pilot, wait_until)
        assert not {"pic-4", "pic-3", "pic-2"} & set(ids(app))
        assert table.marked_images == [] and "marked" not in status(app)
        assert table.current_image.id == "pic-1"
        await details_show(pilot, wait_until, "pic-1", "pic-1.png")
        assert any("Deleted 3 images" in n.message for n in app._notifications)


async def test_delete_several_with_one_failure(library_path, seeded, wait_until):
    app, backend = start(library_path)
    backend.fail["delete"] = lambda args: (
        ImagesError(ErrorCode.STORAGE, "locked") if args[0] == "pic-3" else None
    )
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, wait_until)
        await move_to(pilot, "pic-4")
        await pilot.press("space", "space", "space")
        await pilot.press("d")
        form = await opened(pilot, wait_until, ConfirmDeleteModal)
        await pilot.press("y")
        await wait_until(pilot, lambda: form.attempted and not form.busy)
        summary = plain(form.query_one("#delete-summary", Static))
        assert "Deleted 2 of 3" in summary
        assert f"pic-3  pic-3.png: ERROR {ErrorCode.STORAGE.value}: locked" in summary
        assert str(form.query_one("#delete", Button).label) == "Retry failed"
        await pilot.press("escape")
        await back_on_main(pilot, wait_until)
        assert "pic-3" in ids(app) and not {"pic-4", "pic-2"} & set(ids(app))
        # The one that failed stays marked: d again retries just that one.
        assert [image.id for image in table_of(app).marked_images] == ["pic-3"]
        assert "1 marked" in status(app)
        del backend.fail["delete"]
        await pilot.press("d")
        form = await opened(pilot, wait_until, ConfirmDeleteModal)
        assert "pic-3" in plain(form.query_one("#delete-targets", Static))
        await pilot.press("y")
        await back_on_main(pilot, wait_until)
        assert "pic-3" not in ids(app) and table_of(app).marked_images == []


# ----------------------------------------------------------------------------- o: download


async def test_download_current_and_no_silent_overwrite(library_path, seeded, wait_until, tmp_path):
    app, _ = start(library_path)
    target = tmp_path / "out" / "saved.png"
    target.parent.mkdir()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, wait_until)
        await move_to(pilot, "pic-2")
        await pilot.press("o")
        form = await opened(pilot, wait_until, DownloadModal)
        field = form.query_one("#target", Input)
        assert field.has_focus and field.value.endswith("pic-2.png")
        field.value = str(target)
        await pilot.press("enter")
        await back_on_main(pilot, wait_until)
        assert target.read_bytes() == seeded["pic-2"]
        umask = os.umask(0o022)
        os.umask(umask)
        assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask  # not mkstemp's 0o600
        # Again, onto the now existing file: refused until Overwrite is ticked.
        target.write_bytes(b"mine")
        await pilot.press("o")
        form = await opened(pilot, wait_until, DownloadModal)
        form.query_one("#target", Input).value = str(target)
        await pilot.press("enter")
        await wait_until(pilot, lambda: "saved.png" in form_error(form))
        assert target.read_bytes() == b"mine"
        assert isinstance(app.screen, DownloadModal)
        assert form.query_one("#overwrite", Checkbox).has_focus
        await pilot.press("space")  # tick Overwrite
        await pilot.click("#save")
        await back_on_main(pilot, wait_until)
        assert target.read_bytes() == seeded["pic-2"]
        assert not list(target.parent.glob(".imgtui-*"))  # no temp file left behind


async def test_download_marked_into_a_folder(library_path, seeded, wait_until, tmp_path):
    app, _ = start(library_path)
    folder = tmp_path / "batch"
    async with app.run_test(size=SIZE) as pilot:
        table = await ready(pilot, wait_until)
        await move_to(pilot, "pic-4")
        await pilot.press("space", "space")
        await pilot.press("o")
        form = await opened(pilot, wait_until, DownloadModal)
        assert "2 images" in plain(form.query_one(".modal-intro", Static))
        form.query_one("#target", Input).value = str(folder)
        await pilot.press("enter")
        await back_on_main(pilot, wait_until)
        assert sorted(path.name for path in folder.iterdir()) == ["pic-3.png", "pic-4.png"]
        assert (folder / "pic-4.png").read_bytes() == seeded["pic-4"]
        assert len(table.marked_images) == 2  # a download keeps the marks


async def test_editing_keys_on_an_empty_library_warn(library_path, wait_until):
    app, _ = start(library_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: table_of(app).is_complete)
        for key in ("e", "p", "Y", "d", "o"):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, MainScreen), key
        assert sum("No image selected" in n.message for n in app._notifications) >= 1
        await pilot.press("u")
        await opened(pilot, wait_until, UploadModal)


@pytest.mark.parametrize("key", ["e", "p", "Y", "d", "o", "u"])
async def test_every_form_fits_an_80x24_terminal(library_path, seeded, wait_until, key):
    app, _ = start(library_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, wait_until)
        await pilot.press(key)
        await wait_until(pilot, lambda: not isinstance(app.screen, MainScreen))
        await pilot.pause()
        screen = app.screen
        for button in screen.query(Button).filter(".modal-buttons Button"):
            if button.display:
                x, y = button.region.center
                seen = screen.get_widget_at(x, y)[0] if 0 <= y < 24 else None
                assert seen is button, f"{button.id} is not visible"
