"""Issue 9, finding 4: `rm library.sqlite3*` under a running backend. A write must never be
acknowledged into the removed file, and a reader must never create a new, empty library."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import pytest

from imgtui.backends.local import schema
from imgtui.service import Images, ImagesError

from .imagedata import distinct_png, png


def _remove_library_files(library: Path) -> list[str]:
    removed = sorted(path.name for path in library.glob(f"{schema.LIBRARY_FILE}*"))
    for name in removed:
        os.unlink(library / name)
    return removed


async def _storage_error(call) -> ImagesError:
    with pytest.raises(ImagesError) as info:
        await call
    assert info.value.code == 9001, info.value
    return info.value


async def test_no_write_is_acknowledged_after_the_files_are_removed(tmp_path: Path) -> None:
    library = tmp_path / "lib"
    async with Images.local(library) as images:
        kept = await images.hosted.upload(png(), id="kept")
        assert await images.hosted.list()  # the reader is open too
        assert _remove_library_files(library) == [
            schema.LIBRARY_FILE,
            f"{schema.LIBRARY_FILE}-shm",
            f"{schema.LIBRARY_FILE}-wal",
        ]
        for n in range(5):  # the tester's five uploads, each acknowledged before the fix
            error = await _storage_error(images.hosted.upload(distinct_png(n), id=f"lost-{n}"))
            assert "was removed or replaced while imgtui had it open" in error.message
            assert "nothing was saved" in error.message and "reopen the library" in error.message
            assert str(library / schema.LIBRARY_FILE) in error.message
        await _storage_error(images.hosted.image(kept.id).update(creator="ann"))
        await _storage_error(images.hosted.image(kept.id).delete())
        assert not (library / schema.LIBRARY_FILE).exists()  # nobody made a new file
    async with Images.local(library) as images:  # reopening starts afresh, as the error says
        assert (await images.hosted.list()).images == []


async def test_a_file_moved_over_the_library_is_noticed(tmp_path: Path) -> None:
    library, other = tmp_path / "lib", tmp_path / "other"
    async with Images.local(other) as images:
        await images.hosted.upload(png(), id="other's")
    async with Images.local(library) as images:
        await images.hosted.upload(png(), id="mine")
        # A backup restored over the open library: its WAL files go, the other file moves in.
        for suffix in ("-wal", "-shm"):
            os.unlink(library / f"{schema.LIBRARY_FILE}{suffix}")
        os.replace(other / schema.LIBRARY_FILE, library / schema.LIBRARY_FILE)
        error = await _storage_error(images.hosted.upload(distinct_png(1), id="late"))
        assert "removed or replaced" in error.message
    async with Images.local(library) as images:
        assert [i.id for i in (await images.hosted.list()).images] == ["other's"]


async def test_a_reader_opened_after_the_removal_creates_nothing(tmp_path: Path) -> None:
    library = tmp_path / "lib"
    async with Images.local(library) as images:
        await images.hosted.upload(png(), id="kept")
    async with Images.local(library) as images:
        await images.hosted.image("kept").delete()  # the writer is open, the reader is not yet
        _remove_library_files(library)
        error = await _storage_error(images.hosted.list())
        assert "is missing: it was removed while imgtui had the library open" in error.message
        await _storage_error(images.hosted.image("kept").details())
        assert not any(path.name.startswith(schema.LIBRARY_FILE) for path in library.iterdir())


def test_a_reader_connection_never_creates_a_library(tmp_path: Path) -> None:
    for root in (tmp_path / "absent", tmp_path / "empty"):
        if root.name == "empty":
            root.mkdir()
        with pytest.raises(ImagesError) as info:
            schema.connect(root, writer=False)
        assert info.value.code == 9001 and "is missing" in info.value.message
        assert not (root / schema.LIBRARY_FILE).exists()
    # An empty file where the library was (another tool touched it) is not taken for one.
    (tmp_path / "empty" / schema.LIBRARY_FILE).touch()
    with pytest.raises(ImagesError) as info:
        schema.connect(tmp_path / "empty", writer=False)
    assert "not a complete imgtui library" in info.value.message
    assert (tmp_path / "empty" / schema.LIBRARY_FILE).stat().st_size == 0


def test_reader_connections_are_read_only(tmp_path: Path) -> None:
    schema.connect(tmp_path, writer=True).close()
    reader = schema.connect(tmp_path, writer=False)
    try:
        with pytest.raises(sqlite3.OperationalError, match=r"readonly|read-only"):
            reader.execute("PRAGMA query_only=0")
            reader.execute("INSERT INTO settings (key, value) VALUES ('x', 'y')")
    finally:
        reader.close()


async def test_a_second_library_instance_keeps_reading_and_refuses_writes(tmp_path: Path) -> None:
    library = tmp_path / "lib"
    async with Images.local(library) as first, Images.local(library) as second:
        await first.hosted.upload(png(), id="shared")
        assert [i.id for i in (await second.hosted.list()).images] == ["shared"]
        _remove_library_files(library)
        # Its open reader still sees the removed file's last state; its writer refuses.
        assert [i.id for i in (await second.hosted.list()).images] == ["shared"]
        await _storage_error(second.hosted.upload(distinct_png(2)))
        await _storage_error(first.hosted.upload(distinct_png(3)))
        assert not (library / schema.LIBRARY_FILE).exists()


def test_the_identity_check_is_cheap(tmp_path: Path) -> None:
    conn = schema.connect(tmp_path, writer=True)
    try:
        assert len(conn.opened_files) == 3  # type: ignore[attr-defined]
        start = time.perf_counter()
        for _ in range(1000):
            schema.check_files_in_place(conn)
        assert (time.perf_counter() - start) / 1000 < 200e-6  # ~3 us here; a commit's fsync is ms
    finally:
        conn.close()
