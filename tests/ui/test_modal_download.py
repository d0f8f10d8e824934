"""DownloadModal on a real local library, writing into tmp folders."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.widgets import Checkbox, Input, Static

from imgtui.service import ErrorCode, ImageMetadata, ImagesError
from imgtui.ui.modals import DownloadModal
from imgtui.ui.modals.common import ErrorLine
from imgtui.workflows.downloads import batch_filenames, safe_filename, save_image

try:
    from .test_modal_kit import ModalHost, library, png_bytes, recorder, settle
except ImportError:
    from test_modal_kit import ModalHost, library, png_bytes, recorder, settle  # type: ignore[no-redef]

__all__ = ["library"]


def error_text(app) -> str:
    return str(app.screen.query_one("#form-error", ErrorLine).render())


def leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if path.name.startswith(".imgtui-"))


@pytest.fixture
def out(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


async def test_one_image_saved_to_default_path(library, out):
    data = png_bytes((9, 9, 9))
    image = await library.hosted.upload(data, filename="cat.png")
    app = ModalHost(lambda: DownloadModal(library, [image], directory=out))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.screen.query_one("#target", Input).value == str(out / "cat.png")
        assert app.focused.id == "target"
        await pilot.press("enter")
        await settle(pilot, app)
    assert app.result == [out / "cat.png"]
    assert (out / "cat.png").read_bytes() == data
    assert leftovers(out) == []


async def test_never_overwrites_without_the_checkbox(library, out):
    image = await library.hosted.upload(png_bytes(), filename="cat.png")
    (out / "cat.png").write_bytes(b"precious")
    recorder(library).calls.clear()
    app = ModalHost(lambda: DownloadModal(library, [image], directory=out))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot, app)
        assert error_text(app).startswith("Already exists: cat.png. Tick Overwrite")
        assert app.focused.id == "overwrite"
        assert (out / "cat.png").read_bytes() == b"precious"
        assert recorder(library).calls == []  # nothing fetched before the user decides
        app.screen.query_one("#overwrite", Checkbox).value = True
        await pilot.click("#save")
        await settle(pilot, app)
    assert (out / "cat.png").read_bytes() == png_bytes()
    assert app.result == [out / "cat.png"]


async def test_several_into_a_new_folder_with_distinct_names(library, tmp_path):
    images = [
        await library.hosted.upload(png_bytes((i, 0, 0)), filename=name)
        for i, name in enumerate(["a.png", "a.png", "../evil.png"])
    ]
    folder = tmp_path / "new-folder"
    app = ModalHost(lambda: DownloadModal(library, images, directory=tmp_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        app.screen.query_one("#target", Input).value = str(folder)
        await pilot.press("enter")
        await settle(pilot, app)
    assert [path.name for path in app.result] == ["a.png", "a-2.png", ".._evil.png"]
    assert all(path.parent == folder for path in app.result)
    assert (folder / "a-2.png").read_bytes() == png_bytes((1, 0, 0))
    assert not (tmp_path / "evil.png").exists()


async def test_failures_listed_and_no_partial_files(library, out):
    images = [await library.hosted.upload(png_bytes((i, 1, 1)), filename=f"p{i}.png") for i in range(3)]
    recorder(library).fail["bytes"] = lambda args: (
        ImagesError(ErrorCode.NOT_FOUND, "Image not found") if args[0] == images[1].id else None
    )
    app = ModalHost(lambda: DownloadModal(library, images, directory=out))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot, app)
        summary = str(app.screen.query_one("#download-summary", Static).render())
        assert "Saved 2 of 3." in summary
        assert f"✗ {images[1].id}: ERROR 5404: Image not found" in summary
        assert error_text(app) == "1 could not be saved"
        await pilot.press("escape")
        await pilot.pause()
    assert [path.name for path in app.result] == ["p0.png", "p2.png"]
    assert sorted(path.name for path in out.iterdir()) == ["p0.png", "p2.png"]


async def test_stream_failing_midway_leaves_nothing(library, out):
    image = await library.hosted.upload(png_bytes(), filename="x.png")

    class Broken:
        def __init__(self):
            self.sent = False

        def __aiter__(self):
            return self

        async def __anext__(self):
            if not self.sent:
                self.sent = True
                return b"partial"
            raise ImagesError(ErrorCode.NETWORK, "Connection lost")

    async def broken_bytes(image_id):
        return Broken()

    recorder(library)._inner.bytes = broken_bytes
    with pytest.raises(ImagesError):
        await save_image(library, image.id, out / "x.png", overwrite=False)
    assert list(out.iterdir()) == []


async def test_bad_targets_are_said(library, out, tmp_path):
    image = await library.hosted.upload(png_bytes(), filename="cat.png")
    app = ModalHost(lambda: DownloadModal(library, [image], directory=out))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        target = app.screen.query_one("#target", Input)
        for value, message in [
            ("", "Type where to save"),
            (str(tmp_path / "nope" / "cat.png"), "No such folder"),
            (str(tmp_path / "nope" / "deeper") + "/", "Cannot use that folder"),
        ]:
            target.value = value
            await pilot.press("enter")
            await settle(pilot, app)
            assert message in error_text(app), value
            assert target.value == value  # what was typed stays
        await pilot.press("escape")
        await pilot.pause()
    assert app.result is None
    assert "bytes" not in recorder(library).names()


@pytest.mark.parametrize("slash", ["", "/"])
async def test_one_image_into_a_typed_folder_keeps_its_filename(library, out, slash):
    data = png_bytes((4, 5, 6))
    image = await library.hosted.upload(data, filename="cat.png")
    app = ModalHost(lambda: DownloadModal(library, [image], directory=out))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        app.screen.query_one("#target", Input).value = f"{out}{slash}"
        await pilot.press("enter")
        await settle(pilot, app)
    assert app.result == [out / "cat.png"]
    assert (out / "cat.png").read_bytes() == data
    assert leftovers(out) == []


async def test_one_image_into_a_new_folder_with_a_trailing_slash(library, out):
    image = await library.hosted.upload(png_bytes(), filename="cat.png")
    app = ModalHost(lambda: DownloadModal(library, [image], directory=out))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        app.screen.query_one("#target", Input).value = "fresh/"  # relative to the directory
        await pilot.press("enter")
        await settle(pilot, app)
    assert app.result == [out / "fresh" / "cat.png"]
    assert not (out / "fresh.png").exists() and not (out / "cat.png").exists()


async def test_one_image_into_a_folder_never_overwrites_without_asking(library, out):
    image = await library.hosted.upload(png_bytes(), filename="cat.png")
    (out / "cat.png").write_bytes(b"precious")
    app = ModalHost(lambda: DownloadModal(library, [image], directory=out))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        app.screen.query_one("#target", Input).value = str(out)
        await pilot.press("enter")
        await settle(pilot, app)
        assert "Already exists: cat.png" in error_text(app)
        assert app.focused.id == "overwrite"
        assert (out / "cat.png").read_bytes() == b"precious"
        await pilot.press("space")  # tick Overwrite
        app.screen.query_one("#target", Input).focus()
        await pilot.press("enter")
        await settle(pilot, app)
    assert app.result == [out / "cat.png"]
    assert (out / "cat.png").read_bytes() == png_bytes()


async def test_escape_cancels_without_calls(library, out):
    image = await library.hosted.upload(png_bytes())
    recorder(library).calls.clear()
    app = ModalHost(lambda: DownloadModal(library, [image], directory=out))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
    assert app.result is None
    assert recorder(library).calls == []
    assert list(out.iterdir()) == []


def test_safe_and_batch_filenames():
    def meta(image_id: str, filename: str | None) -> ImageMetadata:
        return ImageMetadata(id=image_id, filename=filename, uploaded=datetime(2026, 1, 1, tzinfo=UTC))

    assert safe_filename(meta("a/b", None)) == "a_b"
    assert safe_filename(meta("x", "..")) == "x"
    assert safe_filename(meta("x", "a\x00b/c.png")) == "a_b_c.png"
    names = batch_filenames([meta("1", "A.png"), meta("2", "a.png"), meta("3", "noext"), meta("4", "noext")])
    assert names == ["A.png", "a-2.png", "noext", "noext-2"]


async def test_ctrl_s_saves(library, out):
    # Issue 14, trip 3: ctrl+s works here as in every other form.
    image = await library.hosted.upload(png_bytes(), filename="cat.png")
    app = ModalHost(lambda: DownloadModal(library, [image], directory=out))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(pilot, app)
    assert app.result == [out / "cat.png"]


async def test_the_checkbox_reads_without_colour(library, out):
    # Issue 14, trip 9: ticked and unticked used to draw the same `▐X▌`.
    from textual.widgets import Checkbox

    image = await library.hosted.upload(png_bytes(), filename="cat.png")
    app = ModalHost(lambda: DownloadModal(library, [image], directory=out))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        box = app.screen.query_one("#overwrite", Checkbox)
        assert "✓" not in str(box.render())
        box.value = True
        await pilot.pause()
        assert "✓" in str(box.render())
