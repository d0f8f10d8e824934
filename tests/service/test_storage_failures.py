"""What a user sees when the library's disk fails them: full, read-only, damaged, in the way.

Each failure must be `ImagesError(9001, <a sentence saying what to do>)`, leave no half
record behind, and let the library work again once the cause is gone.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from imgtui.backends.local import schema
from imgtui.backends.local.worker import storage_error
from imgtui.service import Images, ImagesError

from .imagedata import distinct_png, png


async def _storage_failure(coro) -> ImagesError:
    with pytest.raises(ImagesError) as info:
        await coro
    assert info.value.code == 9001
    return info.value


async def test_a_full_disk_saves_nothing_and_the_library_recovers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    library = tmp_path / "lib"
    async with Images.local(library) as images:
        await images.hosted.upload(png(), id="before")
    connect = schema.connect
    conn = sqlite3.connect(library / schema.LIBRARY_FILE)
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.close()

    def cramped(root: Path, *, writer: bool, **options: Any) -> sqlite3.Connection:
        # The portable "disk full": SQLite answers SQLITE_FULL past max_page_count, exactly as
        # on a full disk (checked by hand on a 1 MiB tmpfs too).
        opened = connect(root, writer=writer, **options)
        opened.execute(f"PRAGMA max_page_count={pages + 2}")
        return opened

    monkeypatch.setattr(schema, "connect", cramped)
    big = distinct_png(1) + bytes(64 * 1024)  # trailing bytes after IEND: still a valid PNG
    async with Images.local(library) as images:
        error = await _storage_failure(images.hosted.upload(big, id="big", metadata={"k": "v"}))
        assert "disk is full" in error.message and "nothing was saved" in error.message
        assert str(library) in error.message
        assert await images.hosted.image("big").details() is None
        assert [i.id for i in (await images.hosted.list()).images] == ["before"]
    monkeypatch.setattr(schema, "connect", connect)  # space was freed
    async with Images.local(library) as images:
        assert (await images.hosted.upload(big, id="big")).id == "big"
        assert await images.hosted.image("big").read() == big
        conn = sqlite3.connect(library / schema.LIBRARY_FILE)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.close()


@contextlib.contextmanager
def _read_only_view(source: Path, view: Path) -> Iterator[None]:
    """`view` shows `source` read-only: a read-only bind mount as root (chmod stops no
    root), permissions otherwise. Skips where neither is possible."""
    view.mkdir()
    if os.geteuid() != 0:
        os.rmdir(view)
        view.symlink_to(source)
        modes = [(path, path.stat().st_mode) for path in (source, *source.iterdir())]
        for path, mode in modes:
            path.chmod(mode & ~0o222)
        try:
            yield
        finally:
            for path, mode in modes:
                path.chmod(mode)
        return
    bind = subprocess.run(["mount", "--bind", str(source), str(view)], capture_output=True)
    if bind.returncode != 0:
        pytest.skip(f"cannot bind-mount here: {bind.stderr.decode(errors='replace').strip()}")
    try:
        remount = subprocess.run(["mount", "-o", "remount,bind,ro", str(view)], capture_output=True)
        if remount.returncode != 0:
            pytest.skip("cannot remount read-only here")
        yield
    finally:
        subprocess.run(["umount", str(view)], check=True)


async def test_a_read_only_library_says_so(tmp_path: Path) -> None:
    source = tmp_path / "lib"
    async with Images.local(source) as images:
        await images.hosted.upload(png(), id="kept")
    view = tmp_path / "view"
    with _read_only_view(source, view):
        async with Images.local(view) as images:
            for call in (images.hosted.list(), images.hosted.upload(distinct_png(2))):
                started = time.monotonic()
                error = await _storage_failure(call)
                # at once: it used to wait out the 10 s busy timeout first
                assert time.monotonic() - started < 2
                assert "read-only" in error.message and str(view) in error.message
        # A new library cannot be created inside a read-only folder either.
        async with Images.local(view / "new") as images:
            error = await _storage_failure(images.hosted.list())
            assert "read-only" in error.message
    async with Images.local(source) as images:  # untouched
        assert [i.id for i in (await images.hosted.list()).images] == ["kept"]


def _sqlite_error(tmp_path: Path, how: str) -> sqlite3.Error:
    path = tmp_path / "probe.db"
    if how == "readonly":
        sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.commit()
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        statement = "INSERT INTO t VALUES (1)"
    elif how == "notadb":
        path.write_bytes(b"not sqlite" * 500)
        conn = sqlite3.connect(path)
        statement = "SELECT * FROM sqlite_schema"
    else:
        conn = sqlite3.connect(":memory:")
        conn.execute("CREATE TABLE t (x)")
        conn.execute("PRAGMA max_page_count=2")
        statement = "INSERT INTO t VALUES (zeroblob(100000))"
    try:
        conn.execute(statement)
    except sqlite3.Error as exc:
        return exc
    finally:
        conn.close()
    raise AssertionError(f"{how}: sqlite did not fail")


@pytest.mark.parametrize(
    ("how", "says"),
    [
        ("readonly", "is read-only"),
        ("notadb", "damaged or is not an imgtui library"),
        ("full", "disk is full"),
    ],
)
def test_sqlite_failures_get_a_sentence_that_says_what_happened(tmp_path: Path, how: str, says: str) -> None:
    # The real exceptions SQLite raises, wherever the test runs (no mounts needed).
    error = storage_error("Local library /x", _sqlite_error(tmp_path, how), tmp_path)
    assert error.code == 9001 and says in error.message and error.message.startswith("Local library /x")


def test_os_failures_get_a_sentence_too(tmp_path: Path) -> None:
    cases = {
        OSError(28, "No space left on device"): "disk is full",
        OSError(30, "Read-only file system"): "is read-only",
        FileExistsError(17, "File exists"): "a file is in the way",
        OSError(5, "Input/output error"): "Input/output error",
    }
    for exc, says in cases.items():
        error = storage_error("Local library /x", exc, tmp_path)
        assert error.code == 9001 and says in error.message, error.message
