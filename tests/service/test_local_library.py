"""What only the local library has: lazy opening, persistence, its keys, cursor internals,
storage errors, locking, and the extra methods `imgtui serve` and the TUI use."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from imgtui.backends.local import DEFAULT_DELIVERY_BASE, LocalBackend, schema, store
from imgtui.backends.local.cursor import decode_cursor, encode_cursor
from imgtui.service import ErrorCode, Images, ImagesError
from imgtui.service.models import Blob
from imgtui.service.signing import check_signature

from .imagedata import SVG, crafted_png, distinct_png, jpeg, png


def _backend(images: Images) -> LocalBackend:
    backend = images.backend
    assert isinstance(backend, LocalBackend)
    return backend


async def test_the_constructor_does_no_io_and_the_first_call_creates_the_library(tmp_path: Path) -> None:
    library = tmp_path / "deep" / "lib"
    images = Images.local(library)
    assert not library.exists()
    assert str(library) in images.label
    async with images:
        assert (await images.hosted.list()).images == []
        assert (library / schema.LIBRARY_FILE).is_file()
        conn = sqlite3.connect(library / schema.LIBRARY_FILE)
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        conn.close()


async def test_everything_persists_across_reopen(tmp_path: Path) -> None:
    library = tmp_path / "lib"
    async with Images.local(library) as images:
        first = await images.hosted.upload(png(), id="kept", metadata={"a": [1, 2]}, creator="ann")
        for n in range(4):
            await images.hosted.upload(distinct_png(n))
        cursor = (await images.hosted.list(limit=2)).cursor
        keys = (await _backend(images).account_hash(), await _backend(images).signing_key())
    async with Images.local(library) as images:
        assert await images.hosted.image("kept").details() == first
        assert await images.hosted.image("kept").read() == png()
        assert (await _backend(images).account_hash(), await _backend(images).signing_key()) == keys
        assert len((await images.hosted.list(cursor=cursor)).images) == 3  # cursors outlive the process
        await images.hosted.upload(distinct_png(9), id="later")
        assert (await images.hosted.list(limit=100)).images[-1].id == "later"


async def test_a_backend_can_be_used_again_after_aclose(local_images: Images) -> None:
    await local_images.hosted.upload(png(), id="one")
    await local_images.aclose()
    await local_images.aclose()  # idempotent
    assert (await local_images.hosted.image("one").details()).id == "one"


async def test_library_keys_are_random_url_safe_and_per_library(tmp_path: Path) -> None:
    a, b = LocalBackend(tmp_path / "a"), LocalBackend(tmp_path / "b")
    try:
        hash_a, hash_b = await a.account_hash(), await b.account_hash()
        assert hash_a != hash_b and len(hash_a) >= 16
        assert all(ch.isalnum() or ch in "-_" for ch in hash_a)
        assert await a.signing_key() != await b.signing_key()
    finally:
        await a.aclose()
        await b.aclose()


async def test_variants_follow_the_delivery_base(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path / "lib")
    images = Images(backend)
    async with images:
        meta = await images.hosted.upload(png(), id="a b/c")
        account = await backend.account_hash()
        # A new library has the `public` variant only, as a new Cloudflare account does.
        assert meta.variants == [f"{DEFAULT_DELIVERY_BASE}/{account}/a%20b/c/public"]
        backend.delivery_base = "http://127.0.0.1:9999/cdn-cgi/imagedelivery/"
        again = await images.hosted.image("a b/c").details()
        assert again.variants[0] == f"http://127.0.0.1:9999/cdn-cgi/imagedelivery/{account}/a%20b/c/public"
    custom = Images.local(tmp_path / "lib", delivery_base="https://imagedelivery.net")
    async with custom:
        assert (
            (await custom.hosted.image("a b/c").details())
            .variants[0]
            .startswith(f"https://imagedelivery.net/{account}/")
        )


async def test_signed_urls_verify_with_the_library_key(local_images: Images) -> None:
    backend = _backend(local_images)
    meta = await local_images.hosted.upload(png(), require_signed_urls=True)
    url = await local_images.hosted.image(meta.id).signed_url(expires_in=100)
    path, query = url.split("://", 1)[1].split("/", 1)[1], url.split("?", 1)[1]
    key = await backend.signing_key()
    path = "/" + path.split("?", 1)[0]
    assert check_signature(path, query, key, now=0) is None
    assert check_signature(path, query, "wrong key", now=0) == "Invalid signature"
    exp = int(dict(p.split("=") for p in query.split("&"))["exp"])
    assert check_signature(path, query, key, now=exp + 1) == "Signature expired"


async def test_extras_for_the_server_and_the_tui(local_images: Images) -> None:
    backend = _backend(local_images)
    assert await backend.count() == 0
    assert await backend.blob("missing") is None and await backend.file_info("missing") is None
    png_meta = await local_images.hosted.upload(crafted_png(640, 480), creator="ann")
    await local_images.hosted.upload(jpeg(), id="j", creator="")
    await local_images.hosted.upload(SVG, id="s")
    assert await backend.count() == 3
    assert await backend.blob("j") == Blob(jpeg(), "image/jpeg")
    every = [m.id for m in await backend.list_offset(offset=0, limit=10, sort_order="asc", creator=None)]
    assert every == [png_meta.id, "j", "s"]
    assert [m.id for m in await backend.list_offset(offset=1, limit=1, sort_order="desc", creator=None)] == [
        "j"
    ]
    assert [m.id for m in await backend.list_offset(offset=0, limit=10, sort_order="asc", creator="ann")] == [
        png_meta.id
    ]
    # v1 semantics: creator "" lists the images without a creator.
    assert [m.id for m in await backend.list_offset(offset=0, limit=10, sort_order="asc", creator="")] == [
        "j",
        "s",
    ]
    assert await backend.list_offset(offset=5, limit=10, sort_order="asc", creator=None) == []
    with pytest.raises(ImagesError):
        await backend.list_offset(offset=-1, limit=10, sort_order="asc", creator=None)


async def test_uploaded_never_goes_backwards_even_if_the_clock_does(tmp_path: Path) -> None:
    clock = iter([5_000_000, 4_000_000, 6_000_000, 1_000])
    async with Images.local(tmp_path / "lib", clock=lambda: next(clock)) as images:
        stamps = [(await images.hosted.upload(distinct_png(n))).uploaded for n in range(4)]
    assert stamps == sorted(stamps)
    assert stamps[1] == stamps[0] and stamps[2] - stamps[0] == timedelta(seconds=1000)


async def test_concurrent_uploads_get_distinct_sequences_in_order(local_images: Images) -> None:
    metas = await asyncio.gather(*(local_images.hosted.upload(distinct_png(n)) for n in range(30)))
    listed = (await local_images.hosted.list(limit=100)).images
    assert sorted(m.id for m in metas) == sorted(m.id for m in listed)
    assert [m.uploaded for m in listed] == sorted(m.uploaded for m in listed)


def test_cursor_round_trip_and_size() -> None:
    secret = b"k" * 32
    for seq in (1, 255, 256, 10**6, 2**63 - 1):
        for order in ("asc", "desc"):
            for creator in (None, "", "ann", "ü" * 1024):
                token = encode_cursor(secret, seq, order, creator)
                assert len(token) <= 32
                assert decode_cursor(secret, token, order, creator) == seq
    token = encode_cursor(secret, 42, "asc", None)
    for order, creator, key in (("desc", None, secret), ("asc", "", secret), ("asc", None, b"x" * 32)):
        with pytest.raises(ImagesError) as info:
            decode_cursor(key, token, order, creator)
        assert (info.value.code, info.value.message) == (5400, "Invalid cursor")
    for seq in (0,):  # a well-signed but impossible sequence
        with pytest.raises(ImagesError):
            decode_cursor(secret, encode_cursor(secret, seq, "asc", None), "asc", None)


async def test_a_cursor_from_another_library_is_5400(tmp_path: Path) -> None:
    async with Images.local(tmp_path / "a") as a, Images.local(tmp_path / "b") as b:
        for n in range(3):
            await a.hosted.upload(distinct_png(n))
            await b.hosted.upload(distinct_png(n))
        cursor = (await a.hosted.list(limit=1)).cursor
        with pytest.raises(ImagesError) as info:
            await b.hosted.list(limit=1, cursor=cursor)
        assert info.value.code == 5400


async def test_a_library_path_that_is_a_file_is_a_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    async with Images.local(blocker) as images:
        with pytest.raises(ImagesError) as info:
            await images.hosted.list()
    assert info.value.code == 9001 and str(blocker) in info.value.message


async def test_a_damaged_library_file_is_a_storage_error(tmp_path: Path) -> None:
    library = tmp_path / "lib"
    library.mkdir()
    (library / schema.LIBRARY_FILE).write_bytes(b"this is not sqlite" * 100)
    async with Images.local(library) as images:
        with pytest.raises(ImagesError) as info:
            await images.hosted.upload(png())
    assert info.value.code == 9001


async def test_a_foreign_database_is_refused(tmp_path: Path) -> None:
    library = tmp_path / "lib"
    library.mkdir()
    conn = sqlite3.connect(library / schema.LIBRARY_FILE)
    conn.execute("CREATE TABLE other (x)")
    conn.commit()
    conn.close()
    async with Images.local(library) as images:
        with pytest.raises(ImagesError) as info:
            await images.hosted.list()
    assert info.value.code == 9001 and "not an imgtui library" in info.value.message


async def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    library = tmp_path / "lib"
    async with Images.local(library) as images:
        await images.hosted.list()
    conn = sqlite3.connect(library / schema.LIBRARY_FILE)
    conn.execute("PRAGMA user_version=99")
    conn.close()
    async with Images.local(library) as images:
        with pytest.raises(ImagesError) as info:
            await images.hosted.list()
    assert info.value.code == 9001 and "99" in info.value.message


async def test_readers_are_not_blocked_by_a_writer_and_a_stuck_writer_times_out(
    local_images: Images, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(schema, "BUSY_TIMEOUT_S", 0.2)
    await local_images.hosted.upload(png(), id="before")
    other = sqlite3.connect(Path(_backend(local_images).root) / schema.LIBRARY_FILE, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process holding the write lock
        other.execute("DELETE FROM images")
        assert [i.id for i in (await local_images.hosted.list()).images] == ["before"]
        assert await local_images.hosted.image("before").read() == png()
        # The write connection was opened with the old timeout: reopen it with 0.2 s.
        await local_images.aclose()
        with pytest.raises(ImagesError) as info:
            await local_images.hosted.upload(distinct_png(1), id="blocked")
        assert info.value.code == 9001 and "busy" in info.value.message
        other.execute("ROLLBACK")
    finally:
        other.close()
    await local_images.hosted.upload(distinct_png(1), id="blocked")
    assert [i.id for i in (await local_images.hosted.list()).images] == ["before", "blocked"]


async def test_a_failed_write_leaves_no_half_record(
    local_images: Images, monkeypatch: pytest.MonkeyPatch
) -> None:
    await local_images.hosted.list()
    original = store.insert_image

    def failing_blob_insert(conn, request, delivery, *seams):
        # Make the second INSERT of the transaction fail, after the record row went in.
        conn.execute(
            "CREATE TEMP TRIGGER boom BEFORE INSERT ON blobs BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"
        )
        try:
            return original(conn, request, delivery, *seams)
        finally:
            conn.execute("DROP TRIGGER temp.boom")

    monkeypatch.setattr(store, "insert_image", failing_blob_insert)
    with pytest.raises(ImagesError) as info:
        await local_images.hosted.upload(png(), id="half")
    assert info.value.code == ErrorCode.STORAGE and "disk on fire" in info.value.message
    monkeypatch.setattr(store, "insert_image", original)
    assert await local_images.hosted.image("half").details() is None
    assert (await local_images.hosted.upload(png(), id="half")).id == "half"


async def test_an_image_deleted_while_streaming_ends_the_stream_with_5404(local_images: Images) -> None:
    big = png() + bytes(1 << 20)
    await local_images.hosted.upload(big, id="big")
    stream = await local_images.hosted.image("big").bytes()
    first = await anext(stream)
    assert first == big[: len(first)]
    assert await local_images.hosted.image("big").delete()
    with pytest.raises(ImagesError) as info:
        async for _chunk in stream:
            pass
    assert info.value.code == 5404


async def test_sqlite_runs_off_the_event_loop(local_images: Images, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    loop_thread = threading.get_ident()
    threads: set[int] = set()
    original = store.list_page

    def spy(conn, **kwargs):
        threads.add(threading.get_ident())
        return original(conn, **kwargs)

    monkeypatch.setattr(store, "list_page", spy)
    await local_images.hosted.list()
    assert threads and loop_thread not in threads


async def test_a_damaged_record_is_a_storage_error(local_images: Images) -> None:
    await local_images.hosted.upload(png(), id="bad")
    conn = sqlite3.connect(Path(_backend(local_images).root) / schema.LIBRARY_FILE)
    conn.execute("UPDATE images SET meta = '{not json' WHERE id = 'bad'")
    conn.commit()
    conn.close()
    with pytest.raises(ImagesError) as info:
        await local_images.hosted.image("bad").details()
    assert info.value.code == 9001 and "damaged" in info.value.message
