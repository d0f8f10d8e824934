"""Safe while `wrangler dev` runs: reads see the last committed state while another connection
writes, never wait for its lock, leave no read snapshot behind, and run off the event loop."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import time
from pathlib import Path

import pytest

import imgtui.backends.wrangler.store as store
from imgtui.service import Images

from .hostile import build_state, record, row


def writer(database: Path) -> sqlite3.Connection:
    """A read-write connection as workerd holds one (WAL, its own transactions)."""
    return sqlite3.connect(database, isolation_level=None, check_same_thread=False)


def insert(conn: sqlite3.Connection, image_id: str, uploaded: str) -> None:
    conn.execute(
        "INSERT INTO _mf_entries VALUES (?, 'ab12', NULL, ?)",
        (image_id, json.dumps(record(image_id, uploaded))),
    )


async def ids(images: Images) -> list[str]:
    return [image.id for image in (await images.hosted.list(limit=10_000)).images]


async def test_reads_see_the_committed_state_during_a_write_transaction(tmp_path: Path) -> None:
    database = build_state(tmp_path, [row("a")])
    conn = writer(database)
    try:
        conn.execute("BEGIN IMMEDIATE")
        insert(conn, "b", "2026-06-01T00:00:00.000Z")
        async with Images.wrangler(tmp_path) as images:
            started = time.monotonic()
            assert await ids(images) == ["a"]  # the uncommitted row is not seen...
            assert await images.hosted.image("b").details() is None
            assert time.monotonic() - started < 1.0  # ...and the write lock is not waited for
            conn.execute("COMMIT")
            assert await ids(images) == ["a", "b"]
            # No read transaction is left open: a full checkpoint completes (busy flag 0).
            busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            assert busy == 0
    finally:
        conn.close()


async def test_many_reads_while_a_writer_keeps_writing(tmp_path: Path) -> None:
    database = build_state(tmp_path, [])
    conn = writer(database)
    stop = threading.Event()
    written: list[int] = []

    def keep_writing() -> None:
        n = 0
        while not stop.is_set() and n < 2000:
            insert(conn, f"img-{n:05}", f"2026-01-01T00:{n // 60:02}:{n % 60:02}.000Z")
            n += 1
            written.append(n)

    thread = threading.Thread(target=keep_writing)
    thread.start()
    try:
        async with Images.wrangler(tmp_path) as images:
            counts = []
            for _ in range(30):
                counts.append(len(await ids(images)))
                await asyncio.sleep(0.005)
    finally:
        stop.set()
        thread.join()
        conn.close()
    assert counts == sorted(counts)  # committed rows only ever appear
    assert written and counts[-1] <= written[-1]


async def test_the_blocking_work_runs_off_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_state(tmp_path, [row("a")], blobs={"ab12": b"data"})
    threads: set[str] = set()
    for name in ("read_entries", "read_entry", "open_image", "read_file_info"):
        real = getattr(store, name)

        def spy(*args: object, _real=real) -> object:
            threads.add(threading.current_thread().name)
            return _real(*args)

        monkeypatch.setattr(store, name, spy)
    async with Images.wrangler(tmp_path) as images:
        await images.hosted.list()
        await images.hosted.image("a").details()
        assert await images.hosted.image("a").read() == b"data"
        await images.hosted.image("a").file_info()
    assert threads and threading.main_thread().name not in threads
