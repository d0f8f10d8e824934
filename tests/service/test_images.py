"""Conformance: details, bytes, update, delete and signed URLs (both backends)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from imgtui.service import Images, ImagesError

from .imagedata import jpeg, png


async def test_missing_images_answer_none_or_false(images: Images) -> None:
    for image_id in ("nope", "a/b", "x" * 1024, "", "/lead", "trail/", "x" * 1025):
        handle = images.hosted.image(image_id)
        assert await handle.details() is None
        assert await handle.bytes() is None
        assert await handle.read() is None
        assert await handle.delete() is False


async def test_update_of_a_missing_image_is_5404(images: Images) -> None:
    for image_id in ("nope", "", "/lead"):
        with pytest.raises(ImagesError) as info:
            await images.hosted.image(image_id).update(metadata={"a": 1})
        assert (info.value.code, info.value.message) == (5404, "Image not found")


async def test_delete_removes_record_and_bytes(images: Images) -> None:
    meta = await images.hosted.upload(png(), id="gone")
    assert await images.hosted.image("gone").delete() is True
    assert await images.hosted.image("gone").details() is None
    assert await images.hosted.image("gone").read() is None
    assert await images.hosted.image("gone").delete() is False
    assert (await images.hosted.list()).images == []
    again = await images.hosted.upload(jpeg(), id="gone")
    assert again.uploaded >= meta.uploaded
    assert await images.hosted.image("gone").read() == jpeg()


async def test_update_replaces_metadata_and_leaves_other_fields(images: Images) -> None:
    meta = await images.hosted.upload(png(), metadata={"a": 1, "b": 2}, creator="ann", filename="f.png")
    handle = images.hosted.image(meta.id)
    updated = await handle.update(metadata={"c": 3})
    assert updated.meta == {"c": 3}  # replaced, not merged
    assert (updated.creator, updated.filename, updated.uploaded) == ("ann", "f.png", meta.uploaded)
    updated = await handle.update(creator="bob")
    assert (updated.meta, updated.creator) == ({"c": 3}, "bob")
    updated = await handle.update(require_signed_urls=True)
    assert updated.require_signed_urls is True and updated.meta == {"c": 3}
    assert await handle.details() == updated
    assert (await handle.update()) == updated  # nothing to change
    assert await handle.update(metadata={}) == updated.model_copy(update={"meta": {}})


async def test_update_rejects_bad_values(images: Images) -> None:
    meta = await images.hosted.upload(png(), metadata={"keep": True})
    handle = images.hosted.image(meta.id)
    for options in ({"metadata": [1]}, {"require_signed_urls": "true"}, {"creator": 3}):
        with pytest.raises(ImagesError) as info:
            await handle.update(**options)
        assert info.value.code == 5400, options
    assert await handle.details() == meta


async def test_custom_id_cannot_become_private(images: Images) -> None:
    meta = await images.hosted.upload(png(), id="custom/one", metadata={"a": 1})
    handle = images.hosted.image("custom/one")
    with pytest.raises(ImagesError) as info:
        await handle.update(require_signed_urls=True, metadata={"b": 2})
    assert info.value.code == 5410
    assert await handle.details() == meta  # nothing half-applied
    assert (await handle.update(require_signed_urls=False)).require_signed_urls is False


async def test_signed_urls(images: Images) -> None:
    meta = await images.hosted.upload(png(), require_signed_urls=True)
    handle = images.hosted.image(meta.id)
    forever = await handle.signed_url()
    parts = urlsplit(forever)
    assert parts.path.endswith(f"/{meta.id}/public")
    assert re.fullmatch(r"sig=[0-9a-f]{64}", parts.query)
    expiring = await handle.signed_url("thumbnail", expires_in=60)
    query = parse_qs(urlsplit(expiring).query)
    assert urlsplit(expiring).path.endswith(f"/{meta.id}/thumbnail")
    assert set(query) == {"exp", "sig"}
    custom = await images.hosted.upload(png(), id="dir/a b")
    custom_url = await images.hosted.image(custom.id).signed_url()
    assert urlsplit(custom_url).path.endswith("/" + quote("dir/a b", safe="/") + "/public")


async def test_signed_url_errors(images: Images) -> None:
    meta = await images.hosted.upload(png())
    handle = images.hosted.image(meta.id)
    for variant in ("", "a/b", "a?b", "a%b", 3):
        with pytest.raises(ImagesError) as info:
            await handle.signed_url(variant)
        assert info.value.code == 5400
    for expires_in in (0, -5, True, 1.5):
        with pytest.raises(ImagesError) as info:
            await handle.signed_url(expires_in=expires_in)
        assert info.value.code == 5400
    with pytest.raises(ImagesError) as info:
        await images.hosted.image("missing").signed_url()
    assert info.value.code == 5404


async def test_bytes_stream_in_chunks(images: Images) -> None:
    big = png() + bytes(600_000)
    meta = await images.hosted.upload(big)
    stream = await images.hosted.image(meta.id).bytes()
    chunks = [chunk async for chunk in stream]
    assert len(chunks) >= 2 and all(isinstance(chunk, bytes) for chunk in chunks)
    assert b"".join(chunks) == big
