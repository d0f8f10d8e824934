"""UploadModal and UploadQueue on a real local library; URLs from a loopback HTTP server."""

from __future__ import annotations

import asyncio
import base64
import functools
import http.server
import threading
from pathlib import Path

import httpx
import pytest
from textual import events
from textual.widgets import Button, Checkbox, Input, Static, TextArea

from imgtui.service import ErrorCode, ImagesError
from imgtui.service.rules import MAX_UPLOAD_BYTES
from imgtui.ui.modals import UploadModal
from imgtui.ui.modals.common import ConfirmDiscardModal, ErrorLine
from imgtui.ui.modals.upload import CUSTOM_ID_CONFLICT, QueueRow
from imgtui.ui.modals.widgets import PathInput, path_completions
from imgtui.workflows.upload_queue import (
    UploadItem,
    UploadOptions,
    UploadQueue,
    can_retry,
    fetch_remote_image,
    filename_from_url,
    inspect_files,
    is_transient,
)

try:
    from .test_modal_kit import NO_RESULT, ModalHost, library, png_bytes, recorder, settle
except ImportError:
    from test_modal_kit import NO_RESULT, ModalHost, library, png_bytes, recorder, settle  # type: ignore[no-redef]

__all__ = ["library"]


@pytest.fixture
def pictures(tmp_path: Path) -> Path:
    folder = tmp_path / "pics"
    folder.mkdir()
    for index, name in enumerate(["a cat.png", "b.png", "c.png"]):
        (folder / name).write_bytes(png_bytes((index * 40, 10, 10)))
    (folder / "notes.txt").write_text("hello")
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    (folder / "encoded.png.b64").write_text(base64.b64encode(png_bytes((1, 2, 3))).decode())
    big = folder / "huge.png"
    with big.open("wb") as fileobj:  # sparse: costs no disk
        fileobj.truncate(MAX_UPLOAD_BYTES + 1)
    return folder


@pytest.fixture
def web(tmp_path: Path):
    """A loopback HTTP server over a folder: yields (folder, base URL)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def rows(app) -> list[QueueRow]:
    return list(app.screen.query(QueueRow))


def hint(app) -> str:
    return str(app.screen.query_one("#path-hint", Static).render())


async def listed(images) -> list:
    return (await images.hosted.list(limit=100)).images


# -- the form ------------------------------------------------------------------------------


async def test_opened_with_dropped_paths_enter_uploads_them(library, pictures):
    files = [pictures / "a cat.png", pictures / "b.png", pictures / "c.png"]
    app = ModalHost(lambda: UploadModal(library, files))
    async with app.run_test(size=(110, 45)) as pilot:
        await pilot.pause()
        assert [row.item.name for row in rows(app)] == ["a cat.png", "b.png", "c.png"]
        assert app.focused.id == "upload"
        await pilot.press("enter")
        await settle(pilot, app)
    assert sorted(meta.filename for meta in app.result) == ["a cat.png", "b.png", "c.png"]
    assert {meta.id for meta in await listed(library)} == {meta.id for meta in app.result}


async def test_typed_path_enter_adds_then_enter_uploads_with_options(library, pictures):
    app = ModalHost(lambda: UploadModal(library))
    async with app.run_test(size=(110, 50)) as pilot:
        await pilot.pause()
        assert app.focused.id == "path"
        assert app.screen.query_one("#upload", Button).disabled  # nothing queued
        app.screen.query_one("#path", Input).value = str(pictures / "a cat.png")
        await pilot.press("enter")
        await pilot.pause()
        assert [row.item.name for row in rows(app)] == ["a cat.png"]
        assert app.screen.query_one("#path", Input).value == ""
        screen = app.screen
        screen.query_one("#custom-id", Input).value = "pets/cat"
        screen.query_one("#filename", Input).value = "kitty.png"
        screen.query_one("#creator", Input).value = "ann"
        screen.query_one("#metadata", TextArea).text = '{"alt": "a cat"}'
        await pilot.pause()
        assert not screen.query_one("#upload", Button).disabled
        app.screen.query_one("#path", Input).focus()
        await pilot.press("enter")  # empty field + queue: Enter uploads
        await settle(pilot, app)
    [meta] = app.result
    assert (meta.id, meta.filename, meta.creator, meta.meta) == (
        "pets/cat",
        "kitty.png",
        "ann",
        {"alt": "a cat"},
    )


async def test_folder_adds_its_images_and_problems_are_said(library, pictures, tmp_path):
    app = ModalHost(lambda: UploadModal(library))
    async with app.run_test(size=(110, 45)) as pilot:
        await pilot.pause()
        path_input = app.screen.query_one("#path", Input)
        for text, expected in [
            (str(tmp_path / "missing.png"), "no such file"),
            (str(pictures / "notes.txt"), "not an image"),
            (str(pictures / "huge.png"), "Cloudflare takes at most 10.0 MiB"),
            ("ftp://example.com/a.png", "only http(s) URLs"),
        ]:
            path_input.value = text
            await pilot.press("enter")
            await pilot.pause()
            assert expected in hint(app), text
            assert app.screen.query_one("#path-hint").has_class("-error")
        assert rows(app) == []
        path_input.value = str(pictures)
        await pilot.press("enter")
        await pilot.pause()
        names = [row.item.name for row in rows(app)]
        assert names == ["a cat.png", "b.png", "broken.png", "c.png", "encoded.png.b64"]
        assert "huge.png" in hint(app)  # skipped, and said why
        path_input.value = str(pictures / "b.png")
        await pilot.press("enter")
        await pilot.pause()
        assert len(rows(app)) == 5  # no duplicates
    assert recorder(library).calls == []


async def test_one_bad_file_fails_alone_and_the_rest_upload(library, pictures):
    files = [
        pictures / "a cat.png",
        pictures / "broken.png",
        pictures / "encoded.png.b64",
        pictures / "c.png",
    ]
    recorder(library).fail["upload"] = lambda args: (
        ImagesError(ErrorCode.ALREADY_EXISTS, "Resource already exists")
        if args[0].filename == "c.png"
        else None
    )
    app = ModalHost(lambda: UploadModal(library, files))
    async with app.run_test(size=(110, 50)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot, app)
        assert isinstance(app.screen, UploadModal)  # stays to show what failed
        statuses = {row.item.name: str(row.query_one(".queue-status").render()) for row in rows(app)}
        assert statuses == {
            "a cat.png": "✓ uploaded",
            "broken.png": "✗ failed",
            "encoded.png.b64": "✓ uploaded",
            "c.png": "✗ failed",
        }
        errors = {row.item.name: str(row.query_one(ErrorLine).render()) for row in rows(app)}
        assert errors["broken.png"].startswith("ERROR 5455: ")
        assert errors["c.png"] == "ERROR 5409: Resource already exists"
        assert str(app.screen.query_one("#summary", Static).render()).startswith(
            "Uploaded 2 of 4; 2 failed (see above). Refused files are not retried (they would fail again)."
        )
        # 5455 and 5409 would fail the same way again: no Retry, Close has the focus.
        assert app.focused.id == "cancel" and str(app.focused.label) == "Close"
        assert not app.screen.query_one("#upload", Button).display
        assert app.screen.run.pending == []
        await pilot.press("escape")  # even Escape hands back what landed
        await pilot.pause()
    assert sorted(meta.filename for meta in app.result) == ["a cat.png", "encoded.png"]  # .b64 dropped


async def test_retry_sends_only_the_failed_ones(library, pictures):
    files = [pictures / "a cat.png", pictures / "b.png", pictures / "c.png"]
    recorder(library).fail["upload"] = lambda args: (
        ImagesError(ErrorCode.TIMEOUT, "Upload timed out") if args[0].filename != "a cat.png" else None
    )
    app = ModalHost(lambda: UploadModal(library, files))
    async with app.run_test(size=(110, 50)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot, app)
        assert str(app.screen.query_one("#summary").render()) == "Uploaded 1 of 3; 2 failed (see above)."
        assert app.focused.id == "upload" and str(app.focused.label) == "Retry 2"  # a timeout may pass
        recorder(library).fail.clear()
        recorder(library).calls.clear()
        await pilot.press("enter")
        await settle(pilot, app)
    sent = [args[0].filename for name, args in recorder(library).calls if name == "upload"]
    assert sorted(sent) == ["b.png", "c.png"]
    assert sorted(meta.filename for meta in app.result) == ["a cat.png", "b.png", "c.png"]
    assert len(await listed(library)) == 3


async def test_custom_id_with_signed_urls_is_refused_up_front(library, pictures):
    app = ModalHost(lambda: UploadModal(library, [pictures / "b.png"]))
    async with app.run_test(size=(110, 50)) as pilot:
        await pilot.pause()
        screen = app.screen
        screen.query_one("#custom-id", Input).value = "my-id"
        screen.query_one("#signed", Checkbox).value = True
        await pilot.pause()
        assert str(screen.query_one("#signed-hint", Static).render()) == CUSTOM_ID_CONFLICT
        assert screen.query_one("#upload", Button).disabled
        screen.action_upload()
        await settle(pilot, app)
        assert "upload" not in recorder(library).names()
        screen.query_one("#custom-id", Input).value = ""
        await pilot.pause()
        assert not screen.query_one("#upload", Button).disabled
        await pilot.click("#upload")
        await settle(pilot, app)
    assert app.result[0].require_signed_urls is True


async def test_invalid_options_are_caught_before_any_call(library, pictures):
    app = ModalHost(lambda: UploadModal(library, [pictures / "b.png"]))
    async with app.run_test(size=(110, 50)) as pilot:
        await pilot.pause()
        screen = app.screen
        metadata = screen.query_one("#metadata", TextArea)
        for text, message in [
            ("[1]", "not list"),
            ('{"a": ', "Invalid JSON"),
            ('{"k":"' + "x" * 1017 + '"}', "1025"),
        ]:
            metadata.text = text
            await pilot.pause()
            assert message in str(screen.query_one("#metadata-status").render())
            assert screen.query_one("#upload", Button).disabled
        metadata.text = ""
        screen.query_one("#custom-id", Input).value = "2cdc28f0-017a-49c4-9ed7-87056c83901f"
        await pilot.pause()
        await pilot.click("#upload")
        await settle(pilot, app)
        assert str(screen.query_one("#form-error").render()) == "ERROR 5400: Custom ID must not be UUID"
        assert screen.query_one("#custom-id", Input).value == "2cdc28f0-017a-49c4-9ed7-87056c83901f"
        assert not screen.query_one("#options").collapsed
    assert recorder(library).calls == []


async def test_custom_id_and_filename_only_for_one_file(library, pictures):
    app = ModalHost(lambda: UploadModal(library, [pictures / "b.png", pictures / "c.png"]))
    async with app.run_test(size=(110, 50)) as pilot:
        await pilot.pause()
        assert app.screen.query_one("#custom-id", Input).disabled
        assert app.screen.query_one("#filename", Input).disabled
        await pilot.click(".queue-remove")  # remove the first: one file left
        await pilot.pause()
        assert [row.item.name for row in rows(app)] == ["c.png"]
        assert not app.screen.query_one("#custom-id", Input).disabled
        assert app.screen.query_one("#filename", Input).placeholder == "c.png"


async def test_opened_with_nothing_uploadable_focuses_the_path(library, pictures):
    app = ModalHost(lambda: UploadModal(library, [pictures / "huge.png"]))
    async with app.run_test(size=(110, 45)) as pilot:
        await pilot.pause()
        assert rows(app) == []
        assert "huge.png" in hint(app)
        assert app.focused.id == "path"
        assert app.screen.query_one("#upload", Button).disabled


async def test_escape_on_an_untouched_form_closes_at_once(library):
    app = ModalHost(lambda: UploadModal(library))
    async with app.run_test(size=(110, 45)) as pilot:
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmDiscardModal)
    assert app.result is None


@pytest.mark.parametrize("leave", ["escape", "cancel-button"])
async def test_leaving_with_a_queue_asks_first_and_no_keeps_it(library, pictures, leave):
    app = ModalHost(lambda: UploadModal(library, [pictures / "b.png", pictures / "c.png"]))
    async with app.run_test(size=(110, 45)) as pilot:
        await pilot.pause()
        form = app.screen

        async def leave_form() -> None:
            if leave == "escape":
                await pilot.press("escape")
            else:
                await pilot.click("#cancel")
            await pilot.pause()

        await leave_form()
        assert isinstance(app.screen, ConfirmDiscardModal)
        question = str(app.screen.query_one("#discard-question").render())
        assert question == "Discard 2 files in the queue?"
        assert app.focused.id == "keep"  # the safe answer is the easy one
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is form and len(form.run.items) == 2
        await leave_form()
        await pilot.press("enter")  # Enter on the focused Keep
        await pilot.pause()
        assert app.screen is form and app.result is NO_RESULT
        await leave_form()
        await pilot.press("y")
        await pilot.pause()
    assert app.result is None
    assert recorder(library).calls == []


async def test_ctrl_s_uploads_whatever_has_focus_and_the_hint_says_so(library, pictures):
    """ctrl+u was the hint, but the path field took it (delete to line start)."""
    app = ModalHost(lambda: UploadModal(library))
    async with app.run_test(size=(110, 45)) as pilot:
        await pilot.pause()
        form = app.screen
        assert "ctrl+s upload" in form.query_one("#dialog").border_subtitle
        form.query_one("#path", Input).value = str(pictures / "b.png")
        await pilot.press("enter")
        await pilot.pause()
        assert app.focused.id == "path" and len(form.run.items) == 1
        await pilot.press("ctrl+s")
        await settle(pilot, app)
    assert [meta.filename for meta in app.result] == ["b.png"]


async def test_a_typed_but_unadded_path_is_uploaded_not_dropped(library, pictures):
    app = ModalHost(lambda: UploadModal(library))
    async with app.run_test(size=(110, 45)) as pilot:
        await pilot.pause()
        form = app.screen
        form.query_one("#path", Input).value = str(pictures / "b.png")
        await pilot.press("enter")  # b.png queued
        form.query_one("#path", Input).value = str(pictures / "c.png")  # typed, Enter not pressed
        await pilot.press("ctrl+s")
        await settle(pilot, app)
    assert sorted(meta.filename for meta in app.result) == ["b.png", "c.png"]


async def test_ctrl_s_with_nothing_queued_says_so(library):
    app = ModalHost(lambda: UploadModal(library))
    async with app.run_test(size=(110, 45)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "Nothing to upload yet" in str(app.screen.query_one("#path-hint").render())
        assert isinstance(app.screen, UploadModal)


async def test_the_field_label_says_http_urls_work_too(library):
    app = ModalHost(lambda: UploadModal(library))
    async with app.run_test(size=(110, 45)) as pilot:
        await pilot.pause()
        labels = [str(label.render()) for label in app.screen.query(".field-label")]
        assert any("an http(s) URL" in text for text in labels)
        assert not any("https://" in text for text in labels)


@pytest.mark.parametrize(
    ("errors", "retry_shown", "focus"),
    [
        ({"b.png": ImagesError(ErrorCode.NETWORK, "Connection refused")}, 1, "upload"),
        ({"b.png": ImagesError(429, "Rate limited")}, 1, "upload"),
        ({"b.png": ImagesError(503, "Service unavailable")}, 1, "upload"),
        ({"b.png": ImagesError(ErrorCode.TOO_LARGE, "Too big")}, 0, "cancel"),
        (
            {
                "b.png": ImagesError(ErrorCode.UNSUPPORTED_IMAGE, "Bad image"),
                "c.png": ImagesError(ErrorCode.NETWORK, "Connection reset"),
            },
            1,
            "upload",
        ),
    ],
)
async def test_after_a_failure_retry_is_offered_only_when_it_can_succeed(
    library, pictures, errors, retry_shown, focus
):
    recorder(library).fail["upload"] = lambda args: errors.get(args[0].filename)
    app = ModalHost(
        lambda: UploadModal(library, [pictures / "a cat.png", pictures / "b.png", pictures / "c.png"])
    )
    async with app.run_test(size=(110, 50)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot, app)
        form = app.screen
        upload = form.query_one("#upload", Button)
        assert app.focused.id == focus
        assert upload.display == bool(retry_shown)
        if retry_shown:
            assert str(upload.label) == f"Retry {retry_shown}"
            recorder(library).fail.clear()
            recorder(library).calls.clear()
            await pilot.click("#upload")
            await settle(pilot, app)
            retried = [args[0].filename for name, args in recorder(library).calls if name == "upload"]
            assert retried == [name for name, error in errors.items() if error.code != 5455]


def test_transient_and_permanent_codes():
    for code in (ErrorCode.NETWORK, ErrorCode.TIMEOUT, 429, 500, 503):
        assert is_transient(ImagesError(code, "x")) and can_retry(ImagesError(code, "x")), code
    for code in (5400, 5409, 5410, 5413, 5455):
        assert not is_transient(ImagesError(code, "x")) and not can_retry(ImagesError(code, "x")), code


async def test_escape_while_uploading_stops_the_rest_and_reports_what_landed(library, tmp_path):
    files = []
    for index in range(8):
        path = tmp_path / f"f{index}.png"
        path.write_bytes(png_bytes((index, 0, 0)))
        files.append(path)
    gate = asyncio.Event()
    real_upload = recorder(library)._inner.upload

    async def gated_upload(request):
        await gate.wait()
        return await real_upload(request)

    recorder(library)._inner.upload = gated_upload
    app = ModalHost(lambda: UploadModal(library, files))
    async with app.run_test(size=(110, 50)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        statuses = [str(row.query_one(".queue-status").render()) for row in rows(app)]
        assert statuses.count("uploading…") == 3  # three in flight, no more
        await pilot.press("escape")  # stop: in-flight ones finish, the rest are not sent
        await pilot.pause()
        assert isinstance(app.screen, UploadModal)
        assert "Stopping" in hint(app)
        gate.set()
        await settle(pilot, app)
        assert str(app.screen.query_one("#summary").render()) == "Uploaded 3 of 8; 5 not sent (stopped)."
        await pilot.press("escape")
        await pilot.pause()
    assert [meta.filename for meta in app.result] == ["f0.png", "f1.png", "f2.png"]
    assert len(await listed(library)) == 3


async def test_tab_completes_and_cycles(library, pictures, tmp_path):
    app = ModalHost(lambda: UploadModal(library, cwd=tmp_path))
    async with app.run_test(size=(110, 45)) as pilot:
        await pilot.pause()
        path_input = app.screen.query_one("#path", PathInput)
        await pilot.press(*"pi", "tab")
        await pilot.pause()
        assert path_input.value == "pics/"
        await pilot.press("b", "tab")
        await pilot.pause()
        assert path_input.value in ("pics/b", "pics/b.png")  # b.png and broken.png share "b"
        await pilot.press("tab")
        await pilot.pause()
        first = path_input.value
        await pilot.press("tab")
        await pilot.pause()
        assert {first, path_input.value} == {"pics/b.png", "pics/broken.png"}
        assert "matches" in hint(app)


def test_path_completions(pictures, tmp_path):
    assert path_completions("pics/a", cwd=tmp_path) == ["pics/a cat.png"]
    assert path_completions("pics/n", cwd=tmp_path) == []  # notes.txt is not uploadable
    assert path_completions(str(pictures / "e"), cwd=tmp_path) == [str(pictures / "encoded.png.b64")]
    assert path_completions("nowhere/x", cwd=tmp_path) == []
    assert path_completions("https://x", cwd=tmp_path) == []


async def test_pasting_several_paths_into_the_input_queues_them(library, pictures):
    app = ModalHost(lambda: UploadModal(library))
    async with app.run_test(size=(110, 45)) as pilot:
        await pilot.pause()
        text = f"'{pictures / 'a cat.png'}' '{pictures / 'b.png'}' "
        app.screen.query_one("#path", PathInput).post_message(events.Paste(text))
        await settle(pilot, app)
        assert [row.item.name for row in rows(app)] == ["a cat.png", "b.png"]
        # PathInput's own paste handler took it: not also flattened into the field.
        assert app.screen.query_one("#path", PathInput).value == ""


async def test_drop_on_the_host_opens_the_upload_form(library, pictures):
    app = ModalHost(images=library)
    async with app.run_test(size=(110, 45)) as pilot:
        await pilot.pause()
        app.post_message(events.Paste("just some words"))
        await settle(pilot, app)
        assert not isinstance(app.screen, UploadModal)
        assert app.problems == ["The pasted text does not name any file"]
        kitty = f"{pictures / 'a cat.png'}\n{pictures / 'notes.txt'}\n{pictures / 'c.png'}\n"
        app.post_message(events.Paste(kitty))
        await settle(pilot, app)
        assert isinstance(app.screen, UploadModal)
        assert [row.item.name for row in rows(app)] == ["a cat.png", "c.png"]
        assert hint(app) == f"Added 2 files; skipped: {pictures / 'notes.txt'}: not an image"
        assert app.focused.id == "upload"
        await pilot.press("enter")
        await settle(pilot, app)
    assert sorted(meta.filename for meta in app.result) == ["a cat.png", "c.png"]


async def test_browse_picks_a_file(library, pictures):
    app = ModalHost(lambda: UploadModal(library, cwd=pictures))
    async with app.run_test(size=(110, 50)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+o")
        tree = app.screen.query_one("#tree")
        for _ in range(50):  # DirectoryTree's loader worker never completes: poll instead
            await pilot.pause(0.02)
            if tree.root.children:
                break
        assert app.focused is tree
        shown = [str(node.label) for node in tree.root.children]
        assert shown == ["a cat.png", "b.png", "broken.png", "c.png", "encoded.png.b64", "huge.png"]
        await pilot.press("down", "down", "enter")  # the cursor starts on the folder itself
        for _ in range(50):
            await pilot.pause(0.02)
            if rows(app):
                break
        assert [row.item.name for row in rows(app)] == ["b.png"]


async def test_browse_opens_in_the_typed_folder_and_backspace_goes_up(library, pictures, tmp_path):
    (pictures / "inner").mkdir()
    (pictures / "inner" / "deep.png").write_bytes(png_bytes())
    app = ModalHost(lambda: UploadModal(library, cwd=tmp_path))
    async with app.run_test(size=(110, 50)) as pilot:
        await pilot.pause()
        app.screen.query_one("#path", PathInput).value = str(pictures / "inner")
        await pilot.press("ctrl+o")
        for _ in range(50):  # the tree's loader worker never completes: poll
            await pilot.pause(0.02)
            if app.screen.query("#tree"):
                break
        tree = app.screen.query_one("#tree")
        assert Path(tree.path) == pictures / "inner"
        assert app.focused is tree
        assert "backspace" in hint(app)
        await pilot.press("backspace")
        for _ in range(50):
            await pilot.pause(0.02)
            if Path(tree.path) == pictures and tree.root.children:
                break
        assert Path(tree.path) == pictures
        assert "inner" in [str(node.label) for node in tree.root.children]
        assert tree.border_title == str(pictures)  # the root node alone names no parent


async def test_escape_in_the_tree_closes_only_the_tree(library, pictures):
    app = ModalHost(lambda: UploadModal(library, [pictures / "b.png"], cwd=pictures))
    async with app.run_test(size=(110, 50)) as pilot:
        await pilot.pause()
        form = app.screen
        await pilot.click("#browse")
        for _ in range(50):  # the tree's loader worker never completes: poll
            await pilot.pause(0.02)
            if form.query("#tree") and app.focused is form.query_one("#tree"):
                break
        assert form.query_one("#tree-box").display
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is form and app.result is NO_RESULT
        assert not form.query_one("#tree-box").display
        assert app.focused.id == "path"  # back where a path is typed
        assert "esc closes the tree" not in hint(app)
        assert [item.name for item in form.run.items] == ["b.png"]
        await pilot.press("escape")  # the tree is closed: now the form (which asks: a file is queued)
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDiscardModal)


# -- URLs -----------------------------------------------------------------------------------


async def test_url_is_fetched_and_uploaded(library, web):
    root, base = web
    (root / "remote cat.png").write_bytes(png_bytes())
    app = ModalHost(lambda: UploadModal(library, urls=[f"{base}/remote%20cat.png"]))
    async with app.run_test(size=(110, 45)) as pilot:
        await pilot.pause()
        assert hint(app) == "Added 1 URL"  # not "1 file", and no size before it is fetched
        assert str(app.screen.query_one("#queue-title", Static).render()) == "Queue: 1 URL"
        await pilot.press("enter")
        await settle(pilot, app)
    [meta] = app.result
    assert meta.filename == "remote cat.png"
    assert await library.hosted.image(meta.id).read() == png_bytes()


async def test_bad_urls_fail_with_their_reason(library, web):
    root, base = web
    (root / "page.html").write_text("<html>hi</html>")
    app = ModalHost(lambda: UploadModal(library))
    async with app.run_test(size=(110, 45)) as pilot:
        await pilot.pause()
        path_input = app.screen.query_one("#path", Input)
        for url in (f"{base}/missing.png", f"{base}/page.html"):
            path_input.value = url
            await pilot.press("enter")
            await pilot.pause()
        await pilot.click("#upload")
        await settle(pilot, app)
        errors = [str(row.query_one(ErrorLine).render()) for row in rows(app)]
    assert errors[0] == f"ERROR 5400: Fetching {base}/missing.png failed: HTTP 404"
    assert errors[1].startswith(f"ERROR 5455: {base}/page.html is not an image Cloudflare takes")
    assert "upload" not in recorder(library).names()


async def test_fetch_caps_size_while_streaming(web):
    root, base = web
    (root / "big.png").write_bytes(png_bytes() + b"\0" * MAX_UPLOAD_BYTES)
    async with httpx.AsyncClient() as client:
        with pytest.raises(ImagesError) as declared:
            await fetch_remote_image(f"{base}/big.png", client=client)
        assert declared.value.code == ErrorCode.TOO_LARGE

        async def no_length(request: httpx.Request) -> httpx.Response:
            async def body():
                for _ in range(12):
                    yield b"\0" * (1024 * 1024)

            return httpx.Response(200, content=body())

        async with httpx.AsyncClient(transport=httpx.MockTransport(no_length)) as lying:
            with pytest.raises(ImagesError) as streamed:
                await fetch_remote_image("https://example.test/x.png", client=lying)
        assert streamed.value.code == ErrorCode.TOO_LARGE
        with pytest.raises(ImagesError) as refused:
            await fetch_remote_image("http://127.0.0.1:9/nothing.png", client=client)
        assert refused.value.code == ErrorCode.NETWORK
        with pytest.raises(ImagesError) as not_http:
            await fetch_remote_image("ftp://example.com/a.png", client=client)
        assert not_http.value.code == ErrorCode.BAD_REQUEST


async def test_a_busy_or_failing_site_is_a_network_error_so_retry_stays_offered():
    async def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(int(request.url.path.strip("/").split(".")[0]))

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        for status, code in (
            (429, ErrorCode.NETWORK),
            (503, ErrorCode.NETWORK),
            (404, ErrorCode.BAD_REQUEST),
        ):
            with pytest.raises(ImagesError) as failed:
                await fetch_remote_image(f"https://example.test/{status}.png", client=client)
            assert failed.value.code == code, status
            assert f"HTTP {status}" in failed.value.message


def test_filename_from_url():
    assert filename_from_url("https://e.com/a/My%20Cat.png?x=1") == "My Cat.png"
    assert filename_from_url("https://e.com/", "webp") == "image.webp"


def test_inspect_files_refuses_big_and_missing(pictures, tmp_path):
    items, problems = inspect_files([pictures / "b.png", pictures / "huge.png", tmp_path / "gone.png"])
    assert [item.name for item in items] == ["b.png"]
    assert len(problems) == 2 and "huge.png" in problems[0] and "gone.png" in problems[1]


async def test_queue_runs_at_most_three_at_once(library, tmp_path):
    in_flight = peak = 0
    real_upload = recorder(library)._inner.upload

    async def counting(request):
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return await real_upload(request)

    recorder(library)._inner.upload = counting
    items = []
    for index in range(7):
        path = tmp_path / f"q{index}.png"
        path.write_bytes(png_bytes((index, 1, 1)))
        items.append(UploadItem(path=path, size=path.stat().st_size))
    events_seen = []
    outcomes = await UploadQueue(library, items, UploadOptions(), on_event=events_seen.append).run()
    assert peak == 3
    assert [outcome.status for outcome in outcomes] == ["done"] * 7
    assert [outcome.image.filename for outcome in outcomes] == [f"q{i}.png" for i in range(7)]
    assert [event.status for event in events_seen].count("done") == 7
    assert [event.status for event in events_seen].count("uploading") == 7


# -- issue 14, trip 4 ----------------------------------------------------------------------


async def test_a_typed_line_is_one_path_first(library, pictures, tmp_path):
    app = ModalHost(lambda: UploadModal(library, cwd=tmp_path))
    async with app.run_test(size=(110, 45)) as pilot:
        await pilot.pause()
        path_input = app.screen.query_one("#path", Input)
        path_input.value = "My Pictures/cat 1.png"
        await pilot.press("enter")
        await pilot.pause()
        assert hint(app) == f"{tmp_path / 'My Pictures' / 'cat 1.png'}: no such file"
        path_input.value = str(pictures / "a cat.png")  # spaces, existing: one file
        await pilot.press("enter")
        await pilot.pause()
        assert [row.item.name for row in rows(app)] == ["a cat.png"]


async def test_tab_without_a_match_stays_in_the_field(library, tmp_path):
    app = ModalHost(lambda: UploadModal(library, cwd=tmp_path))
    async with app.run_test(size=(110, 45)) as pilot:
        await pilot.pause()
        await pilot.press(*"zzz", "tab", "x")
        await pilot.pause()
        assert app.focused.id == "path"
        assert app.screen.query_one("#path", Input).value == "zzzx"
        assert hint(app) == "No match"


async def test_ctrl_s_with_leftover_invalid_text_says_why(library, pictures, tmp_path):
    app = ModalHost(lambda: UploadModal(library, [pictures / "b.png"], cwd=tmp_path))
    async with app.run_test(size=(110, 45)) as pilot:
        await pilot.pause()
        app.screen.query_one("#path", Input).value = "typo.png"
        await pilot.press("ctrl+s")
        await pilot.pause()
        error = str(app.screen.query_one("#form-error", ErrorLine).render())
        assert "Not uploaded" in error and "typo.png: no such file" in error
        assert app.focused.id == "path"
        assert await listed(library) == []


async def test_a_refusal_stays_in_the_queue_after_the_next_add(library, pictures):
    from imgtui.ui.modals.upload import RefusedRow

    app = ModalHost(lambda: UploadModal(library))
    async with app.run_test(size=(110, 45)) as pilot:
        await pilot.pause()
        path_input = app.screen.query_one("#path", Input)
        path_input.value = str(pictures / "huge.png")
        await pilot.press("enter")
        await pilot.pause()
        path_input.value = str(pictures / "b.png")
        await pilot.press("enter")
        await pilot.pause()
        assert hint(app) == "Added 1 file"
        [refused] = app.screen.query(RefusedRow)
        assert "huge.png" in refused.problem and "10.0 MiB" in refused.problem
        assert [row.item.name for row in rows(app)] == ["b.png"]  # not counted, not sent


async def test_url_rows_are_cut_in_the_middle(library):
    from imgtui.ui.display import middle_cut

    assert middle_cut("https://example.com/a/very/long/path/cat-1.png", 20) == "https://e…/cat-1.png"
    assert middle_cut("short", 20) == "short"
    urls = [f"https://images.example.com/some/very/long/folder/name/photo-{n}.png" for n in (1, 2)]
    app = ModalHost(lambda: UploadModal(library, urls=urls))
    async with app.run_test(size=(80, 40)) as pilot:
        await pilot.pause()
        shown = [str(row.query_one(".queue-name").render()) for row in rows(app)]
        assert shown[0] != shown[1] and shown[0].endswith("-1.png") and "…" in shown[0]
