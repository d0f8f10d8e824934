"""The backend against the state of a real `wrangler dev` run: it answers what the binding
answered (expected.json), in the binding's order, and refuses every write."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from imgtui.backends.wrangler import WranglerBackend
from imgtui.service import Images, ImagesError, registry
from imgtui.service.errors import ErrorCode
from imgtui.service.models import ImageMetadata
from imgtui.service.rules import SortOrder

from ..service.imagedata import png
from .conftest import IMAGES_UNDER_PROJECT


def binding_list(expected: dict[str, Any]) -> list[ImageMetadata]:
    return [ImageMetadata.model_validate(image) for image in expected["list"]["images"]]


async def all_pages(
    images: Images, limit: int, sort_order: SortOrder = "asc", creator: str | None = None
) -> list[ImageMetadata]:
    found: list[ImageMetadata] = []
    cursor = None
    while True:
        page = await images.hosted.list(limit=limit, cursor=cursor, sort_order=sort_order, creator=creator)
        assert len(page.images) <= limit
        found.extend(page.images)
        if page.list_complete:
            assert page.cursor is None
            return found
        assert page.cursor
        cursor = page.cursor


async def test_the_list_is_the_binding_s_list(project: Path, expected: dict[str, Any]) -> None:
    async with Images.wrangler(project) as images:
        page = await images.hosted.list()
    assert page.list_complete and page.cursor is None
    assert page.images == binding_list(expected)
    assert len(page.images) == 5  # six uploads, one deleted
    assert "gone" not in {image.id for image in page.images}
    by_id = {image.id: image for image in page.images}
    assert by_id["dog-1"].meta == {"album": "pets", "edited": True}  # the update is seen
    assert by_id["brand/logo"].meta == {"tags": ["brand", "vector"], "size": {"w": 4, "h": 4}}
    assert [image.id for image in page.images if image.require_signed_urls] == [expected["uploads"][2]["id"]]
    assert by_id[expected["uploads"][4]["id"]].filename == "uploaded.jpg"  # the mock's default


@pytest.mark.parametrize("limit", [1, 2, 3, 5, 50])
@pytest.mark.parametrize("sort_order", ["asc", "desc"])
async def test_cursor_paging_walks_the_binding_s_order(
    project: Path, expected: dict[str, Any], limit: int, sort_order: SortOrder
) -> None:
    order = binding_list(expected)  # the binding's asc order: by uploaded, then id
    assert order == sorted(order, key=lambda image: (image.uploaded, image.id))
    async with Images.wrangler(project) as images:
        found = await all_pages(images, limit, sort_order)
    assert found == (order if sort_order == "asc" else order[::-1])


@pytest.mark.parametrize(("creator", "count"), [("alice", 2), ("bob", 1), ("nobody", 0)])
async def test_the_creator_filter(project: Path, expected: dict[str, Any], creator: str, count: int) -> None:
    async with Images.wrangler(project) as images:
        found = await all_pages(images, 1, creator=creator)
    assert found == [image for image in binding_list(expected) if image.creator == creator]
    assert len(found) == count


async def test_a_cursor_survives_the_deletion_of_its_image(project: Path, expected: dict[str, Any]) -> None:
    order = binding_list(expected)
    async with Images.wrangler(project) as images:
        first = await images.hosted.list(limit=2)
        database = next((project / IMAGES_UNDER_PROJECT).glob("miniflare-*/c*.sqlite"))
        with sqlite3.connect(database) as conn:  # as wrangler dev would, meanwhile
            conn.execute("DELETE FROM _mf_entries WHERE key = ?", (first.images[-1].id,))
        conn.close()
        rest = await images.hosted.list(limit=10, cursor=first.cursor)
    assert rest.images == order[2:]  # the mock would restart from the first image here


async def test_a_bad_cursor_is_refused(project: Path) -> None:
    async with Images.wrangler(project) as images:
        for cursor in ("not-a-cursor", "W10", "x" * 5000):
            with pytest.raises(ImagesError) as info:
                await images.hosted.list(cursor=cursor)
            assert info.value.code == ErrorCode.BAD_REQUEST


async def test_details_bytes_and_file_info(project: Path, expected: dict[str, Any]) -> None:
    kinds = {"dog-1": ("image/png", 4, 4), "brand/logo": ("image/svg+xml", None, None)}
    async with Images.wrangler(project) as images:
        for image in binding_list(expected):
            handle = images.hosted.image(image.id)
            assert await handle.details() == image
            data = await handle.read()
            assert data is not None
            assert hashlib.sha256(data).hexdigest() == expected["sha256"][image.id]
            info = await handle.file_info()
            assert info is not None and info[0] == image and info[1] is not None
            assert info[1].size == len(data)
            if image.id in kinds:
                assert (info[1].content_type, info[1].width, info[1].height) == kinds[image.id]
        gif = await images.hosted.image(expected["uploads"][4]["id"]).file_info()
        assert gif is not None and gif[1] is not None and gif[1].content_type == "image/gif"


@pytest.mark.parametrize("image_id", ["gone", "no-such-image", "dog-1/extra", "x" * 1024])
async def test_missing_images_are_none_as_in_the_binding(project: Path, image_id: str) -> None:
    async with Images.wrangler(project) as images:
        handle = images.hosted.image(image_id)
        assert await handle.details() is None
        assert await handle.bytes() is None
        assert await handle.file_info() is None


async def test_every_write_is_refused_with_the_way_out(project: Path) -> None:
    async with Images.wrangler(project) as images:
        attempts = [
            images.hosted.upload(png()),
            images.hosted.upload(png(), id="new-one"),
            images.hosted.image("dog-1").update(metadata={"a": 1}),
            images.hosted.image("dog-1").delete(),
            images.hosted.image("no-such-image").delete(),
        ]
        for attempt in attempts:
            with pytest.raises(ImagesError) as info:
                await attempt
            assert "read-only" in info.value.message
            assert f"imgtui cp wrangler:{project} local:PATH" in info.value.message
        with pytest.raises(ImagesError) as info:
            await images.hosted.image("dog-1").signed_url()
        assert "no signing key" in info.value.message
        assert len((await images.hosted.list()).images) == 5  # nothing changed


async def test_nothing_is_written_to_the_state(project: Path) -> None:
    state = project / IMAGES_UNDER_PROJECT
    before = {path: path.read_bytes() for path in state.rglob("*") if path.is_file()}
    async with Images.wrangler(project) as images:
        for image in (await images.hosted.list()).images:
            await images.hosted.image(image.id).read()
    for path, data in before.items():
        assert path.read_bytes() == data


def test_the_scheme_is_registered() -> None:
    assert "wrangler" in registry.schemes()


@pytest.mark.parametrize("under", [Path(), Path(".wrangler", "state"), IMAGES_UNDER_PROJECT])
async def test_every_folder_form_opens_the_same_state(project: Path, under: Path) -> None:
    for images in (Images.wrangler(project / under), Images.open(f"wrangler:{project / under}")):
        async with images:
            assert isinstance(images.backend, WranglerBackend)
            assert images.label == f"wrangler dev state {project / under} (read-only)"
            assert len((await images.hosted.list()).images) == 5


async def test_the_default_is_the_current_folder(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    for images in (Images.wrangler(), Images.open("wrangler:"), Images.open("wrangler:.")):
        async with images:
            assert images.label == f"wrangler dev state {project} (read-only)"
            assert len((await images.hosted.list()).images) == 5


async def test_a_bytes_stream_outlives_a_delete(project: Path) -> None:
    async with Images.wrangler(project) as images:
        stream = await images.hosted.image("dog-1").bytes()
        assert stream is not None
        for blob in (project / IMAGES_UNDER_PROJECT / "images-data" / "blobs").iterdir():
            blob.unlink()  # wrangler dev deleting the image meanwhile
        data = b"".join([chunk async for chunk in stream])
    assert data.startswith(b"\x89PNG")


async def test_a_metadata_filter_applies_and_the_account_is_refused(project, expected) -> None:
    from imgtui.service import Images, ImagesError

    async with Images.wrangler(project) as images:
        found = await images.hosted.list(limit=50, metadata_filter={"album": {"eq": "pets"}})
        wanted = {i["id"] for i in expected["list"]["images"] if (i.get("meta") or {}).get("album") == "pets"}
        assert wanted and {image.id for image in found.images} == wanted
        with pytest.raises(ImagesError) as refused:
            await images.account.variants.list()
        assert refused.value.code == 5400 and "wrangler" in refused.value.message
