"""The local library across processes: a concurrent writer, and a writer killed mid-upload."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import sqlite3
import sys
from pathlib import Path

from imgtui.backends.local.schema import LIBRARY_FILE
from imgtui.service import Images
from imgtui.service.sniff import sniff_image

from .imagedata import distinct_png

ROOT = Path(__file__).resolve().parents[2]


async def _start_writer(library: Path, count: int, creator: str, big_every: int = 0):
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.service.writer_process",
        str(library),
        str(count),
        creator,
        str(big_every),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def _walk_ids(images: Images, **options) -> list[str]:
    ids, cursor = [], None
    while True:
        page = await images.hosted.list(limit=7, cursor=cursor, **options)
        ids += [image.id for image in page.images]
        if page.cursor is None:
            return ids
        cursor = page.cursor


async def test_a_script_uploads_while_this_process_lists_and_uploads(tmp_path) -> None:
    library = tmp_path / "lib"
    async with Images.local(library) as images:
        await images.hosted.upload(distinct_png(0), id="mine-0")  # the library exists first
        writer = await _start_writer(library, 150, "script")
        seen_from_script: list[int] = []
        mine = 1
        while writer.returncode is None:
            ids = await _walk_ids(images)
            assert len(ids) == len(set(ids))
            seen_from_script.append(len(ids) - mine)
            await images.hosted.upload(distinct_png(1000 + mine), id=f"mine-{mine}")
            mine += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(writer.wait(), 0.01)
        out, err = await writer.communicate()
        assert writer.returncode == 0, err.decode()
        written = out.decode().split()
        assert len(written) == 150
        assert await _walk_ids(images, creator="script") == written  # in the writer's order
        assert len(await _walk_ids(images)) == 150 + mine
        assert any(0 < n < 150 for n in seen_from_script)  # we really listed while it wrote
        assert seen_from_script == sorted(seen_from_script)


async def test_several_processes_can_create_one_new_library_at_once(tmp_path) -> None:
    library = tmp_path / "lib"
    writers = [await _start_writer(library, 5, f"w{n}") for n in range(3)]
    results = [await writer.communicate() for writer in writers]
    for writer, (_out, err) in zip(writers, results, strict=True):
        assert writer.returncode == 0, err.decode()
    async with Images.local(library) as images:
        for n, (out, _err) in enumerate(results):
            assert await _walk_ids(images, creator=f"w{n}") == out.decode().split()


def _check_integrity(library: Path) -> set[str]:
    conn = sqlite3.connect(library / LIBRARY_FILE)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        orphans = conn.execute(
            "SELECT count(*) FROM images i LEFT JOIN blobs b ON b.seq = i.seq WHERE b.seq IS NULL"
        ).fetchone()[0]
        assert orphans == 0, "a record without its bytes"
        assert (
            conn.execute("SELECT count(*) FROM blobs WHERE seq NOT IN (SELECT seq FROM images)").fetchone()[0]
            == 0
        )
        ids = set()
        for image_id, size, content_type, data in conn.execute(
            "SELECT i.id, i.size, i.content_type, b.data FROM images i JOIN blobs b ON b.seq = i.seq"
        ):
            assert len(data) == size
            assert sniff_image(data).mime == content_type
            ids.add(image_id)
        return ids
    finally:
        conn.close()


async def test_a_writer_killed_mid_upload_loses_nothing_it_acknowledged(tmp_path) -> None:
    library = tmp_path / "lib"
    acknowledged: list[str] = []
    rng = random.Random(1234)
    for round_ in range(3):
        writer = await _start_writer(library, 100_000, f"round{round_}", big_every=3)
        assert writer.stdout is not None
        # Let it acknowledge a few uploads, then kill it at a random instant.
        for _ in range(5):
            acknowledged.append((await writer.stdout.readline()).decode().strip())
        await asyncio.sleep(rng.uniform(0, 0.05))
        os.kill(writer.pid, signal.SIGKILL)
        rest, _ = await writer.communicate()  # ids already written to the pipe were acknowledged too
        acknowledged += rest.decode().split()
        assert writer.returncode == -signal.SIGKILL
        stored = _check_integrity(library)
        assert set(acknowledged) <= stored
        # At most the one in flight may be stored without having been acknowledged.
        assert len(stored) - len(acknowledged) <= round_ + 1
    async with Images.local(library) as images:
        assert set(await _walk_ids(images)) == _check_integrity(library)
        meta = await images.hosted.upload(distinct_png(7), id="after-the-crash")
        assert await images.hosted.image(meta.id).read() == distinct_png(7)
