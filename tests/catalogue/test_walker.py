"""Cataloguing a local library and `imgtui serve` (with faults): resumed walks repeat and skip
nothing; edits and deletes made behind the catalogue's back are noticed on a full walk."""

from __future__ import annotations

import shutil
import struct
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from imgtui.catalogue import (
    CatalogueStore,
    CatalogueWalker,
    CatalogueWindow,
    Sort,
    catalogue_path,
    parse_query,
)
from imgtui.catalogue.store import count_all
from imgtui.catalogue.walker import WalkProgress
from imgtui.service import Images
from imgtui.service.errors import ImagesError
from tests.rest_harness import rest_images


def png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\x00\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def ticking_clock() -> object:
    now = [1_767_225_600_000]

    def clock() -> int:
        now[0] += 1000
        return now[0]

    return clock


async def make_library(path: Path, count: int) -> list[str]:
    images = Images.local(path, clock=ticking_clock())  # type: ignore[arg-type]
    ids = []
    try:
        for n in range(count):
            meta = {"n": n, "tags": ["even" if n % 2 == 0 else "odd"]}
            uploaded = await images.hosted.upload(
                png(1 + n % 4, 2),
                filename=f"pic-{n:03d}.png",
                metadata=meta,
                creator="alice" if n % 3 else None,
            )
            ids.append(uploaded.id)
    finally:
        await images.aclose()
    return ids


async def walk_all(walker: CatalogueWalker) -> list[WalkProgress]:
    return [progress async for progress in walker.walk()]


async def stop_after(steps: AsyncIterator[WalkProgress], count: int) -> None:
    """Take `count` steps of a walk or refresh, then stop it there (a quit, a lost network)."""
    taken = 0
    async for _ in steps:
        taken += 1
        if taken == count:
            break


async def test_local_walk_window_and_notes(tmp_path: Path) -> None:
    ids = await make_library(tmp_path / "lib", 23)
    images = Images.local(tmp_path / "lib")
    catalogue = CatalogueStore(catalogue_path(str(tmp_path / "lib"), tmp_path / "cache"))
    try:
        walker = CatalogueWalker(
            images,
            catalogue,
            page_size=5,
            count=images.backend.count,
            file_info=True,  # type: ignore[attr-defined]
        )
        progress = await walk_all(walker)
        assert progress[0] == WalkProgress(0, 23, False)
        assert progress[-1] == WalkProgress(23, 23, True)
        assert [p.done for p in progress] == [0, 5, 10, 15, 20, 23]
        assert await walker.is_complete()

        window = CatalogueWindow(catalogue)
        assert await window.set_view() == 23
        rows = await window.rows(0, 100)
        assert [r.id for r in rows] == ids[::-1]  # newest first
        assert rows[-1].format == "png" and rows[-1].width == 1 and rows[-1].size > 0
        assert (await window.rows(22, 10))[0].id == ids[0]  # G: the last row

        await window.set_view(parse_query("meta.tags:in(even) -creator:alice"), Sort("filename", False))
        expected = [i for n, i in enumerate(ids) if n % 2 == 0 and n % 3 == 0]
        assert [r.id for r in await window.rows(0, 50)] == expected
        assert await window.count(parse_query("pic-00")) == len(
            [i for n, i in enumerate(ids[:10]) if i in expected]
        )

        # actions the UI takes land without a walk
        deleted = ids[0]
        await walker.note_deleted(deleted)
        assert await window.position_of(deleted) is None
        edited = await images.hosted.image(ids[6]).update(metadata={"tags": ["odd"]})
        await walker.note_changed(edited)
        assert ids[6] not in [r.id for r in await window.rows(0, 50)]
    finally:
        await catalogue.aclose()
        await images.aclose()


async def test_refresh_reads_only_new_images(tmp_path: Path) -> None:
    ids = await make_library(tmp_path / "lib", 12)
    images = Images.local(tmp_path / "lib", clock=lambda: 1_900_000_000_000)
    catalogue = CatalogueStore(tmp_path / "cat.sqlite3")
    try:
        walker = CatalogueWalker(images, catalogue, page_size=4)
        await walk_all(walker)
        newest = await images.hosted.upload(png(2, 2), filename="new.png")
        refreshed = [p async for p in walker.refresh()]
        assert refreshed[-1].complete and refreshed[-1].done == 4  # one page, then known ids
        window = CatalogueWindow(catalogue)
        assert await window.set_view() == 13
        assert (await window.rows(0, 1))[0].id == newest.id
        assert ids
    finally:
        await catalogue.aclose()
        await images.aclose()


async def test_rest_walk_resumes_without_repeats_or_gaps_and_notices_edits(tmp_path: Path) -> None:
    ids = await make_library(tmp_path / "lib", 40)
    catalogue = CatalogueStore(tmp_path / "cat.sqlite3")
    try:
        async with rest_images(
            tmp_path / "lib", faults="rate=0.3,seed=7,kinds=429+500+drop-before", max_retries=1
        ) as images:
            walker = CatalogueWalker(images, catalogue, page_size=6)
            # a quit after two pages
            seen = 0
            while seen < 3:
                try:
                    async for _progress in walker.walk():
                        seen += 1
                        if seen == 3:
                            break
                except ImagesError:
                    pass
            # then resumed, through failed pages (the client's retries run out sometimes)
            failures = 0
            final: WalkProgress | None = None
            while final is None or not final.complete:
                try:
                    async for progress in walker.walk():
                        final = progress
                except ImagesError:
                    failures += 1
                    assert failures < 50
            assert failures >= 1  # the faults did interrupt it
            assert final.done == 40  # each image counted once: no page repeated
        window = CatalogueWindow(catalogue)
        assert await window.set_view() == 40
        assert [r.id for r in await window.rows(0, 40)] == ids[::-1]  # no gap

        # behind its back: one deleted, one edited, one added
        local = Images.local(tmp_path / "lib")
        try:
            await local.hosted.image(ids[5]).delete()
            await local.hosted.image(ids[9]).update(creator="zed", metadata={"status": "gone"})
        finally:
            await local.aclose()
        async with rest_images(tmp_path / "lib") as images:
            walker = CatalogueWalker(images, catalogue, page_size=7)
            await walk_all(walker)
            assert walker.dropped == 1
        assert await window.set_view() == 39
        assert await window.position_of(ids[5]) is None
        assert await window.set_view(parse_query("creator:zed meta.status=gone")) == 1
        assert (await window.rows(0, 1))[0].id == ids[9]
    finally:
        await catalogue.aclose()


def test_catalogue_path_is_stable_and_distinct(tmp_path: Path) -> None:
    a = catalogue_path("cf:0123|api.cloudflare.com", tmp_path)
    assert a == catalogue_path("cf:0123|api.cloudflare.com", tmp_path)
    assert a != catalogue_path("cf:0124|api.cloudflare.com", tmp_path)
    assert a.parent == tmp_path / "catalogue"


@pytest.mark.parametrize("page_size", [0, 20_000])
def test_page_size_clamped(tmp_path: Path, page_size: int) -> None:
    walker = CatalogueWalker(Images.local(tmp_path / "lib"), CatalogueStore(":memory:"), page_size=page_size)
    assert 1 <= walker._page_size <= 10_000


async def test_a_refresh_leaves_no_gap_after_an_interruption_or_a_noted_upload(tmp_path: Path) -> None:
    """A refresh used to stop at the first page holding a known id: one cut short, or a row
    the UI noted (its own upload) above rows nobody had listed, left a gap for good while the
    list said "all". It now reads down to the uploads a finished walk or refresh saw."""
    clock = ticking_clock()
    images = Images.local(tmp_path / "lib", clock=clock)  # type: ignore[arg-type]
    catalogue = CatalogueStore(tmp_path / "cat.sqlite3")
    try:
        for n in range(10):
            await images.hosted.upload(png(1, 1), filename=f"old-{n}.png")
        walker = CatalogueWalker(images, catalogue, page_size=5, first_page=5)
        await walk_all(walker)
        for n in range(20):  # uploaded elsewhere
            await images.hosted.upload(png(1, 1), filename=f"new-{n}.png")
        await stop_after(walker.refresh(), 2)  # cut short after two pages (quit, network)
        again = CatalogueWalker(images, catalogue, page_size=5, first_page=5)
        assert [p.complete for p in [p async for p in again.refresh()]][-1]
        assert await catalogue.run(count_all) == 30
        for n in range(20):  # elsewhere again, then the TUI's own upload, noted at once
            await images.hosted.upload(png(1, 1), filename=f"other-{n}.png")
        mine = await images.hosted.upload(png(1, 1), filename="mine.png")
        await again.note_changed(mine)
        async for _ in again.refresh():
            pass
        assert await catalogue.run(count_all) == 51
        listed = CatalogueWindow(catalogue)
        assert await listed.set_view() == 51
    finally:
        await catalogue.aclose()
        await images.aclose()


async def test_a_refused_saved_cursor_restarts_the_walk(tmp_path: Path) -> None:
    """A walk stopped mid-way keeps its cursor; when the backend refuses it (the library was
    recreated at the same path; an expired token), the walk starts again from the top
    instead of failing at every launch and every `r`."""
    await make_library(tmp_path / "lib", 12)
    catalogue = CatalogueStore(tmp_path / "cat.sqlite3")
    images = Images.local(tmp_path / "lib")
    try:
        walker = CatalogueWalker(images, catalogue, page_size=5, first_page=5)
        await stop_after(walker.walk(), 2)  # quit with a saved cursor
        await images.aclose()
        shutil.rmtree(tmp_path / "lib")
        ids = await make_library(tmp_path / "lib", 7)
        images = Images.local(tmp_path / "lib")
        walker = CatalogueWalker(images, catalogue, page_size=5, first_page=5)
        progress = await walk_all(walker)
        assert progress[-1].complete
        window = CatalogueWindow(catalogue)
        assert await window.set_view() == 7
        assert {row.id for row in await window.rows(0, 10)} == set(ids)
    finally:
        await catalogue.aclose()
        await images.aclose()


async def test_r_walks_from_the_top_even_mid_walk(tmp_path: Path) -> None:
    await make_library(tmp_path / "lib", 12)
    catalogue = CatalogueStore(tmp_path / "cat.sqlite3")
    images = Images.local(tmp_path / "lib")
    try:
        walker = CatalogueWalker(images, catalogue, page_size=5, first_page=5)
        await stop_after(walker.walk(), 2)
        restarted = [p async for p in walker.walk(restart=True)]
        assert restarted[0].done == 0 and restarted[-1].complete and restarted[-1].done == 12
    finally:
        await catalogue.aclose()
        await images.aclose()


def set_aside(folder: Path) -> list[str]:
    return [p.name for p in folder.glob("corrupt.sqlite3.corrupt-*")]


async def test_a_corrupt_or_unusable_catalogue_file_never_stops_the_list(tmp_path: Path) -> None:
    """The catalogue is a cache: garbage in its file is moved aside and the catalogue made
    anew; a file it may not open gives way to one in memory (the list used to stay empty,
    with no walk, at every launch)."""
    await make_library(tmp_path / "lib", 6)
    images = Images.local(tmp_path / "lib")
    corrupt = tmp_path / "corrupt.sqlite3"
    corrupt.write_bytes(b"this is not a database" * 100)
    folder = tmp_path / "locked"
    folder.mkdir()
    unopenable = folder / "cat.sqlite3"
    unopenable.mkdir()  # a folder where the file should be: sqlite cannot open it
    try:
        for path, in_memory in ((corrupt, False), (unopenable, True)):
            catalogue = CatalogueStore(path)
            try:
                assert (await walk_all(CatalogueWalker(images, catalogue)))[-1].complete
                assert await CatalogueWindow(catalogue).set_view() == 6
                assert catalogue.in_memory is in_memory
            finally:
                await catalogue.aclose()
        assert set_aside(tmp_path)  # the corrupt file is kept aside, not deleted
    finally:
        await images.aclose()


async def test_a_refresh_of_images_sharing_one_millisecond_stops_at_known_ones(tmp_path: Path) -> None:
    """A bulk import can give every image the same upload time: the refresh must stop at
    the known ones of that millisecond, not read the whole library again."""
    images = Images.local(tmp_path / "lib", clock=lambda: 1_767_225_600_000)  # type: ignore[arg-type]
    catalogue = CatalogueStore(tmp_path / "cat.sqlite3")
    try:
        for n in range(30):
            await images.hosted.upload(png(1, 1), filename=f"same-{n}.png")
        walker = CatalogueWalker(images, catalogue, page_size=5, first_page=5)
        await walk_all(walker)
        pages = [p async for p in walker.refresh()]
        assert len(pages) == 1 and pages[-1].complete and pages[-1].done == 5
        assert await catalogue.run(count_all) == 30
    finally:
        await catalogue.aclose()
        await images.aclose()
