"""Saving originals to disk without Textual: names, plans, no overwrite, no partial files."""

from __future__ import annotations

import asyncio
import io
import os
import stat
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from imgtui.service import ErrorCode, ImageMetadata, Images, ImagesError
from imgtui.workflows import downloads
from imgtui.workflows.downloads import (
    FileExists,
    batch_filenames,
    plan_downloads,
    safe_filename,
    save_image,
)


def meta(image_id: str, filename: str | None = None) -> ImageMetadata:
    return ImageMetadata(id=image_id, filename=filename, uploaded=datetime(2026, 1, 1, tzinfo=UTC))


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (3, 2), (10, 20, 30)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
async def library(tmp_path: Path) -> AsyncIterator[Images]:
    images = Images.local(tmp_path / "library")
    yield images
    await images.aclose()


@pytest.fixture
def out(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def listing(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def temp_files(folder: Path) -> list[str]:
    return [path.name for path in folder.iterdir() if path.name.startswith(".imgtui-")]


def test_names_are_safe_and_distinct() -> None:
    assert safe_filename(meta("a/b")) == "a_b"
    assert safe_filename(meta("x", "..")) == "x"
    assert safe_filename(meta("x", " \x01 ")) == "_"
    assert len(safe_filename(meta("x", "n" * 400))) == 255


async def test_long_non_ascii_names_fit_the_file_system(library: Images, out: Path) -> None:
    """A file name is at most 255 bytes: 104 CJK characters (312 bytes, a valid Cloudflare
    filename) made ENAMETOOLONG for every file of the batch. Cut in bytes, on a character
    boundary, keeping the extension and the -N of a repeated name."""
    long = "画" * 104 + ".png"
    name = safe_filename(meta("x", long))
    assert len(name.encode()) <= 255 and name == "画" * 83 + ".png"
    first, second = batch_filenames([meta("1", long), meta("2", long)])
    assert first == name and second.endswith("-2.png") and len(second.encode()) <= 255
    assert first != second
    image = await library.hosted.upload(png(), filename=long)
    plan = plan_downloads([image, image], out, as_folder=True)
    for path in plan.paths:
        await save_image(library, image.id, path, overwrite=False)
    assert sorted(path.name for path in plan.paths) == listing(out)
    assert len(safe_filename(meta("x", "é" * 300))) == 127  # no extension: 254 bytes, whole characters


def test_safe_filename_never_spoofs_with_bidi_or_c1():
    """Issue 9, finding 1: `evil\u202egnp.exe` saved raw shows as `evilexe.png` in a file
    manager; DEL and C1 controls (the 8-bit CSI) reach the terminal that lists the folder."""
    assert safe_filename(meta("x", "evil\u202egnp.exe")) == "evil_gnp.exe"
    assert safe_filename(meta("x", "a\x7fb\x9b31m\u2066c.png")) == "a_b_31m_c.png"
    assert safe_filename(meta("x", "café ☕.png")) == "café ☕.png"  # other text stays
    assert batch_filenames([meta("1", "A.png"), meta("2", "a.png"), meta("3", "a.png")]) == [
        "A.png",
        "a-2.png",
        "a-3.png",
    ]
    assert batch_filenames([]) == []


def test_plan_for_one_file_needs_its_folder(out: Path) -> None:
    plan = plan_downloads([meta("1", "cat.png")], out / "kitty.png", as_folder=False)
    assert plan.paths == [out / "kitty.png"] and plan.conflicts == []
    with pytest.raises(ValueError, match="No such folder"):
        plan_downloads([meta("1", "cat.png")], out / "missing" / "kitty.png", as_folder=False)


def test_plan_into_a_folder_creates_it_and_lists_conflicts(out: Path) -> None:
    (out / "new").mkdir()
    (out / "new" / "a-2.png").write_bytes(b"old")
    plan = plan_downloads([meta("1", "a.png"), meta("2", "a.png")], out / "new", as_folder=True)
    assert plan.paths == [out / "new" / "a.png", out / "new" / "a-2.png"]
    assert plan.conflicts == [out / "new" / "a-2.png"]
    created = plan_downloads([meta("1", "b.png")], out / "made", as_folder=True)
    assert (out / "made").is_dir() and created.paths == [out / "made" / "b.png"]
    # An existing folder typed as a file name takes the image under its own name.
    assert plan_downloads([meta("1", "c.png")], out, as_folder=False).paths == [out / "c.png"]
    (out / "file").write_bytes(b"")
    with pytest.raises(ValueError, match="is a file, not a folder"):
        plan_downloads([meta("1", "a.png")], out / "file", as_folder=True)


async def test_save_writes_the_bytes_with_a_new_files_mode(library: Images, out: Path) -> None:
    data = png()
    image = await library.hosted.upload(data, filename="p.png")
    target = await save_image(library, image.id, out / "p.png", overwrite=False)
    assert target.read_bytes() == data and temp_files(out) == []
    assert stat.S_IMODE(os.stat(target).st_mode) == downloads.new_file_mode()


async def test_save_never_overwrites_unless_asked(library: Images, out: Path) -> None:
    image = await library.hosted.upload(png(), filename="p.png")
    (out / "p.png").write_bytes(b"mine")
    with pytest.raises(FileExists):
        await save_image(library, image.id, out / "p.png", overwrite=False)
    assert (out / "p.png").read_bytes() == b"mine" and temp_files(out) == []
    await save_image(library, image.id, out / "p.png", overwrite=True)
    assert (out / "p.png").read_bytes() == png()


async def test_save_of_a_missing_image_is_not_found(library: Images, out: Path) -> None:
    with pytest.raises(ImagesError) as caught:
        await save_image(library, "nope", out / "x.png", overwrite=False)
    assert caught.value.code == ErrorCode.NOT_FOUND
    assert listing(out) == []


class SlowStream:
    """Two chunks, the second never comes: the download is cancelled in between."""

    def __init__(self) -> None:
        self.started = asyncio.Event()

    def __aiter__(self) -> SlowStream:
        return self

    async def __anext__(self) -> bytes:
        if not self.started.is_set():
            self.started.set()
            return b"partial"
        await asyncio.Event().wait()
        raise StopAsyncIteration


async def test_a_cancelled_save_leaves_no_file(library: Images, out: Path, monkeypatch) -> None:
    image = await library.hosted.upload(png(), filename="p.png")
    stream = SlowStream()

    class Handle:
        async def bytes(self) -> SlowStream:
            return stream

    monkeypatch.setattr(library.hosted, "image", lambda image_id: Handle())
    task = asyncio.create_task(save_image(library, image.id, out / "p.png", overwrite=False))
    await stream.started.wait()
    await asyncio.sleep(0.05)  # the first chunk is written to the temp file
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert listing(out) == []


async def test_blocking_file_calls_run_off_the_event_loop(library: Images, out: Path, monkeypatch) -> None:
    image = await library.hosted.upload(png(), filename="p.png")
    loop_thread = threading.get_ident()
    seen: list[int] = []
    real_finalize, real_open = downloads._finalize, downloads._open_temp

    def spy_finalize(*args):
        seen.append(threading.get_ident())
        return real_finalize(*args)

    def spy_open(*args):
        seen.append(threading.get_ident())
        return real_open(*args)

    monkeypatch.setattr(downloads, "_finalize", spy_finalize)
    monkeypatch.setattr(downloads, "_open_temp", spy_open)
    await save_image(library, image.id, out / "p.png", overwrite=False)
    assert len(seen) == 2 and loop_thread not in seen
