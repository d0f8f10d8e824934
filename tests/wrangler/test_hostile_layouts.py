"""A missing, changed or hostile state is a clear ImagesError naming what was expected and
where, never a wrong listing; blob reads stay inside images-data/blobs."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from imgtui.service import Images, ImagesError
from imgtui.service.errors import ErrorCode

from .hostile import DATABASE, KV_DIR, build_state, record, row


async def list_error(images_dir: Path) -> ImagesError:
    async with Images.wrangler(images_dir) as images:
        with pytest.raises(ImagesError) as info:
            await images.hosted.list()
    assert info.value.code == ErrorCode.STORAGE
    return info.value


async def test_a_missing_folder(tmp_path: Path) -> None:
    error = await list_error(tmp_path / "nowhere")
    assert "does not exist" in error.message and str(tmp_path / "nowhere") in error.message


async def test_a_project_without_images_state_names_the_expected_folder(tmp_path: Path) -> None:
    (tmp_path / ".wrangler" / "state" / "v3" / "kv").mkdir(parents=True)
    error = await list_error(tmp_path)
    assert str(tmp_path / ".wrangler/state/v3/images" / KV_DIR) in error.message
    assert "images` binding" in error.message


@pytest.mark.parametrize("databases", [[], ["a.sqlite", "b.sqlite"]])
async def test_not_exactly_one_entries_database(tmp_path: Path, databases: list[str]) -> None:
    kv = tmp_path / KV_DIR
    kv.mkdir()
    (kv / "metadata.sqlite").write_bytes(b"")
    for name in databases:
        sqlite3.connect(kv / name).close()
    error = await list_error(tmp_path)
    assert "expected exactly one <hash>.sqlite" in error.message and str(kv) in error.message


async def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    kv = tmp_path / KV_DIR
    kv.mkdir()
    (kv / DATABASE).write_bytes(b"this is not sqlite, but long enough to have a header" * 20)
    error = await list_error(tmp_path)
    assert "not an SQLite database" in error.message and DATABASE in error.message


@pytest.mark.parametrize(
    ("table_sql", "found"),
    [
        ("CREATE TABLE entries (key TEXT, value BLOB)", "found entries"),
        (
            "CREATE TABLE _mf_entries (key TEXT, blob_id TEXT, metadata TEXT)",
            "_mf_entries(key, blob_id, metadata)",
        ),
        (
            "CREATE TABLE _mf_entries (key TEXT, blob_id TEXT, expiration INTEGER, metadata TEXT, size INT)",
            "size",
        ),
    ],
)
async def test_another_table_or_other_columns(tmp_path: Path, table_sql: str, found: str) -> None:
    build_state(tmp_path, [], table_sql=table_sql)
    error = await list_error(tmp_path)
    assert "expected a table _mf_entries(key, blob_id, expiration, metadata)" in error.message
    assert found in error.message and DATABASE in error.message


def deep(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(levels):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    ("metadata", "says"),
    [
        ("{not json", "not JSON"),
        ("[" * 50_000 + "]" * 10_000, "not JSON"),  # deeper than the parser recurses
        ('["a list"]', "should be a JSON object"),
        (json.dumps(record("other")), "does not match its key"),
        (json.dumps(record("img", requireSignedURLs="yes")), "`requireSignedURLs` and `draft`"),
        (json.dumps(record("img", uploaded=1767323045678)), "`uploaded` should be an ISO 8601"),
        (json.dumps(record("img", uploaded="yesterday")), "is not an ISO 8601 date"),
        (json.dumps(record("img", meta=["x"])), "`meta` should be a JSON object"),
        (json.dumps(record("img", meta=deep(40))), "nested at most 32"),
        (json.dumps(record("img", variants="public")), "`variants` should be a list"),
        (json.dumps(record("img", filename=7)), "`filename` should be a string"),
        (json.dumps(record("img", creator={"name": "x"})), "`creator` should be a string"),
        (json.dumps(record("img", meta={"big": "x" * 70_000})), "at most 65536 bytes"),
        (b"{}", "JSON text"),  # a BLOB, not TEXT
    ],
)
async def test_a_record_of_another_shape_fails_the_whole_listing(
    tmp_path: Path, metadata: Any, says: str
) -> None:
    build_state(tmp_path, [row("fine"), ("img", "ab12", None, metadata)])
    error = await list_error(tmp_path)
    assert says in error.message
    assert DATABASE in error.message and "'img'" in error.message
    assert len(error.message) < 600  # a huge record is never echoed
    async with Images.wrangler(tmp_path) as images:
        with pytest.raises(ImagesError):
            await images.hosted.image("img").details()
        assert (await images.hosted.image("fine").details()) is not None


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        ((b"blob-key", "ab12", None, "{}"), "a key is not text"),
        (("k" * 3000, "ab12", None, "{}"), "too long"),
        (("img", 12, None, json.dumps(record("img"))), "`blob_id` should be a short text"),
        (("img", "ab12", "soon", json.dumps(record("img"))), "`expiration` should be"),
    ],
)
async def test_rows_of_another_shape(tmp_path: Path, entry: tuple[Any, ...], says: str) -> None:
    build_state(tmp_path, [entry], table_sql="CREATE TABLE _mf_entries (key, blob_id, expiration, metadata)")
    assert says in (await list_error(tmp_path)).message


async def test_expired_entries_and_entries_without_metadata_are_not_images(tmp_path: Path) -> None:
    build_state(
        tmp_path,
        [
            row("live"),
            row("later", expiration=2**53),
            row("expired", expiration=1),
            ("plain", "ab12", None, None),
        ],
    )
    async with Images.wrangler(tmp_path) as images:
        assert [image.id for image in (await images.hosted.list()).images] == ["later", "live"]
        for hidden in ("expired", "plain"):
            assert await images.hosted.image(hidden).details() is None


@pytest.mark.parametrize("blob_id", ["../../secret", "/etc/passwd", "..", "a/b", "C:x", ""])
async def test_a_blob_id_that_is_not_a_plain_name_is_never_opened(tmp_path: Path, blob_id: str) -> None:
    (tmp_path / "secret").write_bytes(b"secret")
    images_dir = tmp_path / "images"
    build_state(images_dir, [row("img", blob_id=blob_id)])
    async with Images.wrangler(images_dir) as images:
        with pytest.raises(ImagesError) as info:
            await images.hosted.image("img").read()
    assert "is not a plain name" in info.value.message


async def test_symlinks_out_of_the_blobs_folder_are_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "ab12").write_bytes(b"secret")
    images_dir = tmp_path / "images"
    build_state(images_dir, [row("img", blob_id="ab12"), row("img2", blob_id="cd34")])
    blobs = images_dir / "images-data" / "blobs"
    (blobs / "cd34").symlink_to(outside / "ab12")  # the file itself
    async with Images.wrangler(images_dir) as images:
        with pytest.raises(ImagesError) as info:
            await images.hosted.image("img2").read()
        assert "symlink" in info.value.message
        shutil.rmtree(blobs)
        blobs.symlink_to(outside)  # the whole folder
        with pytest.raises(ImagesError) as info:
            await images.hosted.image("img").read()
        assert "leads outside" in info.value.message


async def test_a_missing_blob_and_a_folder_in_its_place(tmp_path: Path) -> None:
    build_state(tmp_path, [row("img", blob_id="ab12"), row("dir", blob_id="cd34")])
    (tmp_path / "images-data" / "blobs" / "cd34").mkdir()
    async with Images.wrangler(tmp_path) as images:
        with pytest.raises(ImagesError) as info:
            await images.hosted.image("img").read()
        assert "its blob ab12 is missing" in info.value.message
        with pytest.raises(ImagesError) as info:
            await images.hosted.image("dir").read()
        assert "cd34" in info.value.message


async def test_bytes_the_mock_took_but_imgtui_does_not_know(tmp_path: Path) -> None:
    build_state(tmp_path, [row("raw", blob_id="ab12")], blobs={"ab12": bytes([1, 2, 3, 4, 5])})
    async with Images.wrangler(tmp_path) as images:
        assert await images.hosted.image("raw").read() == bytes([1, 2, 3, 4, 5])
        info = await images.hosted.image("raw").file_info()
    assert info is not None and info[1] is None  # the record, and no file facts


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
async def test_an_unreadable_database_is_a_clear_error(tmp_path: Path) -> None:
    database = build_state(tmp_path, [row("img")])
    database.chmod(0)
    try:
        if os.access(database, os.R_OK):
            pytest.skip("running as root: permissions do not apply")
        error = await list_error(tmp_path)
        assert "wrangler dev state" in error.message
    finally:
        database.chmod(0o644)
