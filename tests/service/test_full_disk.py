"""Issue 9, finding 6 (full disk): deleting images still works when the disk is full, so a
user can make room; uploads fail with the disk-full error, as before."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from imgtui.backends.local import reserve, schema
from imgtui.service import Images, ImagesError

from .imagedata import distinct_png


def _image(n: int, size: int = 100_000) -> bytes:
    return distinct_png(n) + os.urandom(size)  # bytes after IEND: still a valid PNG


async def _disk_full(call) -> ImagesError:
    with pytest.raises(ImagesError) as info:
        await call
    assert info.value.code == 9001
    assert "the disk is full (database or disk is full); nothing was saved" in info.value.message
    assert "deleting images still works" in info.value.message
    return info.value


@contextlib.contextmanager
def _tiny_tmpfs(mount_point: Path, size: str) -> Iterator[Path]:
    """A real, small file system (needs root and mount; skips elsewhere)."""
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount_point)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode(errors='replace').strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _fill(path: Path) -> None:
    """Take every byte left on the file system."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    except OSError as exc:
        assert exc.errno == 28  # not even room for a new file: full already
        return
    try:
        for _ in range(10_000):  # 40 MiB at most: far more than the tmpfs holds
            os.write(fd, os.urandom(4096))
    except OSError as exc:
        assert exc.errno == 28  # ENOSPC
        return
    finally:
        os.close(fd)
    raise AssertionError("the disk never filled")


async def test_deletes_work_on_a_really_full_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reserve, "RETRY_AFTER_S", 0.0)
    with _tiny_tmpfs(tmp_path / "disk", "16m") as disk:
        library = disk / "lib"
        (disk / "other-files").write_bytes(os.urandom(5 << 20))  # the user's, freed later
        async with Images.local(library) as images:
            ids = []
            for n in range(400):  # 100 KB each: the 16 MiB disk fills long before
                try:
                    ids.append((await images.hosted.upload(_image(n))).id)
                except ImagesError:
                    break
            assert 10 < len(ids) < 400
            assert (library / reserve.RESERVE_FILE).stat().st_size == reserve.RESERVE_BYTES
            _fill(disk / "filler")  # whatever the failed upload left free is gone too
            await _disk_full(images.hosted.upload(_image(999)))
            # Before the reserve, every one of these failed with the same disk-full error.
            for image_id in ids[:10]:
                assert await images.hosted.image(image_id).delete() is True
            assert not (library / reserve.RESERVE_FILE).exists()  # released for the deletes
            remaining = [i.id for i in (await images.hosted.list(limit=1000)).images]
            assert remaining == ids[10:]
            os.unlink(disk / "other-files")  # the user frees space elsewhere
            await images.hosted.image(ids[10]).delete()
            assert (library / reserve.RESERVE_FILE).stat().st_size == reserve.RESERVE_BYTES  # back
        async with Images.local(library) as images:  # the deletes were durable
            assert [i.id for i in (await images.hosted.list(limit=1000)).images] == ids[11:]
            conn = sqlite3.connect(library / schema.LIBRARY_FILE)
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            conn.close()


def _out_of_space() -> sqlite3.OperationalError:
    error = sqlite3.OperationalError("database or disk is full")
    error.sqlite_errorcode = 13  # type: ignore[attr-defined]  # SQLITE_FULL, as SQLite sets it
    return error


async def test_deletes_work_when_commits_fail_for_lack_of_space(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same, portable: the writer's COMMIT fails with SQLITE_FULL while the disk has no
    free space, which is while the reserve file still holds its bytes."""
    library = tmp_path / "lib"
    reserve_file = library / reserve.RESERVE_FILE
    full = {"on": False}

    class FullDiskConnection(schema.LibraryConnection):
        def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:  # type: ignore[override]
            if sql == "COMMIT" and full["on"] and reserve_file.exists():
                raise _out_of_space()
            return super().execute(sql, *args)

    monkeypatch.setattr(schema, "LibraryConnection", FullDiskConnection)
    async with Images.local(library) as images:
        ids = [(await images.hosted.upload(_image(n, 10))).id for n in range(3)]
        full["on"] = True
        await _disk_full(images.hosted.upload(_image(9, 10)))
        await _disk_full(images.hosted.image(ids[0]).update(creator="ann"))
        assert await images.hosted.image(ids[0]).delete() is True
        assert await images.hosted.image(ids[1]).delete() is True
        assert [i.id for i in (await images.hosted.list()).images] == ids[2:]


async def test_a_delete_that_fails_for_another_reason_keeps_the_reserve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    library = tmp_path / "lib"

    class BrokenConnection(schema.LibraryConnection):
        def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:  # type: ignore[override]
            if sql.startswith("DELETE"):
                raise sqlite3.OperationalError("disk I/O error")
            return super().execute(sql, *args)

    async with Images.local(library) as images:
        image_id = (await images.hosted.upload(_image(1, 10))).id
    monkeypatch.setattr(schema, "LibraryConnection", BrokenConnection)
    async with Images.local(library) as images:
        with pytest.raises(ImagesError) as info:
            await images.hosted.image(image_id).delete()
        assert info.value.code == 9001 and "disk I/O error" in info.value.message
        assert (library / reserve.RESERVE_FILE).exists()


def test_the_reserve_is_real_blocks_and_comes_back(tmp_path: Path) -> None:
    space = reserve.SpaceReserve(tmp_path, size=1 << 20)
    assert space.ensure() and space.ensure()
    info = space.path.stat()
    assert info.st_size == 1 << 20 and info.st_blocks * 512 >= 1 << 20  # not a sparse file
    assert space.release() and not space.path.exists()
    assert not space.release()  # nothing left to free
    assert space.ensure() and space.path.exists()


def test_a_reserve_that_cannot_be_made_is_no_error(tmp_path: Path) -> None:
    missing_folder = reserve.SpaceReserve(tmp_path / "absent" / "deeper")
    assert missing_folder.ensure() is False
    assert missing_folder.ensure() is False  # and the retry waits
