"""Conformance: upload rules, sources and content sniffing (both backends)."""

from __future__ import annotations

import base64
import io
import time
import uuid
from datetime import UTC, datetime
from urllib.parse import quote

import pytest

from imgtui.service import Images, ImagesError
from imgtui.service.rules import MAX_UPLOAD_BYTES

from .imagedata import SVG, gif, jpeg, png, webp


async def _codes(call) -> int:
    with pytest.raises(ImagesError) as info:
        await call
    return info.value.code


async def _count(images: Images) -> int:
    return len((await images.hosted.list(limit=10_000)).images)


async def test_upload_returns_the_record_and_stores_the_bytes(images: Images) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    meta = await images.hosted.upload(png(), filename="cat.png", metadata={"k": "v"}, creator="ann")
    assert uuid.UUID(meta.id).version == 4 and str(uuid.UUID(meta.id)) == meta.id
    assert (meta.filename, meta.meta, meta.creator) == ("cat.png", {"k": "v"}, "ann")
    assert meta.require_signed_urls is False and meta.draft is False
    assert meta.uploaded.tzinfo is not None and meta.uploaded.utcoffset().total_seconds() == 0
    assert meta.uploaded.microsecond % 1000 == 0  # millisecond precision
    assert before <= meta.uploaded <= datetime.now(UTC)
    assert [url.rsplit("/", 2)[1:] for url in meta.variants] == [[meta.id, "public"]]
    assert await images.hosted.image(meta.id).details() == meta
    assert await images.hosted.image(meta.id).read() == png()


async def test_custom_ids_round_trip_and_are_percent_encoded_in_urls(images: Images) -> None:
    for image_id in (
        "a",
        "folder/sub/naïve cat%.png",
        "x" * 1024,
        "a..b/c",
        "12345678-1234-1234-1234-12345678901",
    ):
        meta = await images.hosted.upload(png(), id=image_id)
        assert meta.id == image_id
        assert meta.variants[0].endswith("/" + quote(image_id, safe="/") + "/public")
        assert (await images.hosted.image(image_id).details()).id == image_id


@pytest.mark.parametrize(
    "bad_id",
    [
        "",
        "x" * 1025,
        "/lead",
        "trail/",
        "a//b",
        "a/../b",
        "..",
        ".",
        "a/./b",
        "3ce8f201-9a21-4cf4-9428-35246c2e2810",  # fixed, so parallel workers collect alike
        "fe267bd29f1444f7bee9d0d62953bf24",
        "BF86E5AE-3CF8-420A-A63A-944333232528",
        "line\nbreak",
        "what?",
        "hash#tag",
        "back\\slash",
    ],
)
async def test_bad_custom_ids_are_rejected_and_nothing_is_stored(images: Images, bad_id: str) -> None:
    assert await _codes(images.hosted.upload(png(), id=bad_id)) == 5400
    assert await _count(images) == 0


async def test_duplicate_id_is_5409_and_leaves_the_original_untouched(images: Images) -> None:
    original = await images.hosted.upload(png(), id="dup", metadata={"v": 1}, creator="first")
    with pytest.raises(ImagesError) as info:
        await images.hosted.upload(
            jpeg(), id="dup", metadata={"v": 2}, creator="second", filename="other.jpg"
        )
    assert (info.value.code, info.value.message) == (5409, "Resource already exists")
    assert await images.hosted.image("dup").details() == original
    assert await images.hosted.image("dup").read() == png()
    assert await _count(images) == 1


async def test_custom_id_cannot_require_signed_urls_on_upload(images: Images) -> None:
    assert await _codes(images.hosted.upload(png(), id="mine", require_signed_urls=True)) == 5410
    assert await images.hosted.image("mine").details() is None
    private = await images.hosted.upload(png(), require_signed_urls=True)
    assert private.require_signed_urls is True


async def test_require_signed_urls_must_be_a_bool(images: Images) -> None:
    assert await _codes(images.hosted.upload(png(), require_signed_urls="yes")) == 5400


@pytest.mark.parametrize(
    "make", [png, jpeg, gif, webp, lambda: SVG], ids=["png", "jpeg", "gif", "webp", "svg"]
)
async def test_every_supported_format_is_accepted(images: Images, make) -> None:
    meta = await images.hosted.upload(make())
    assert await images.hosted.image(meta.id).read() == make()


async def test_the_bytes_decide_not_the_name(images: Images, tmp_path) -> None:
    meta = await images.hosted.upload(png(), filename="notes.txt")
    assert meta.filename == "notes.txt"
    disguised = tmp_path / "photo.txt"
    disguised.write_bytes(png())
    assert (await images.hosted.upload(disguised)).filename == "photo.txt"
    fake = tmp_path / "fake.png"
    fake.write_bytes(b"hello, I am text")
    assert await _codes(images.hosted.upload(fake)) == 5455
    assert await _codes(images.hosted.upload(b"hello", filename="a.png")) == 5455


@pytest.mark.parametrize(
    "data",
    [
        b"",
        png()[:-12],  # no IEND
        png()[:20],  # cut inside IHDR
        jpeg()[:-2],  # no end-of-image marker
        jpeg()[:12],
        gif()[:-1],  # no trailer
        gif()[:10],
        webp()[:-4],  # shorter than the RIFF size says
        webp()[:20],
        SVG[:30],
        b"\x00" * 64,
    ],
    ids=lambda d: f"{len(d)}B",
)
async def test_empty_truncated_or_unknown_bytes_are_5455(images: Images, data: bytes) -> None:
    assert await _codes(images.hosted.upload(data)) == 5455
    assert await _count(images) == 0


def _padded_png(size: int) -> bytes:
    return png() + bytes(size - len(png()))  # zeros after IEND: still a valid PNG


async def test_exactly_10_mib_is_accepted_and_one_byte_more_is_5413(images: Images, tmp_path) -> None:
    meta = await images.hosted.upload(_padded_png(MAX_UPLOAD_BYTES))
    stream = await images.hosted.image(meta.id).bytes()
    total = 0
    async for chunk in stream:
        total += len(chunk)
    assert total == MAX_UPLOAD_BYTES
    # Over the limit, from a sparse file: nothing this big is built in memory.
    sparse = tmp_path / "big.png"
    with sparse.open("wb") as out:
        out.write(png())
        out.truncate(MAX_UPLOAD_BYTES + 1)
    assert await _codes(images.hosted.upload(sparse)) == 5413
    assert await _count(images) == 1


async def test_an_endless_stream_is_cut_at_the_limit(images: Images) -> None:
    chunk = bytes(1 << 20)
    pulled = 0

    async def endless():
        nonlocal pulled
        yield png()
        while True:
            pulled += 1
            yield chunk

    assert await _codes(images.hosted.upload(endless())) == 5413
    assert pulled <= 11  # stopped reading just past 10 MiB


@pytest.mark.parametrize(
    ("maker", "width", "height"),
    [
        (m, w, h)
        for m in ("png", "jpeg", "gif", "webp")
        for (w, h) in ((12_001, 1), (1, 12_001), (12_000, 8_334))
    ],
)
async def test_dimensions_over_the_limits_are_5400(
    images: Images, maker: str, width: int, height: int
) -> None:
    from . import imagedata

    data = getattr(imagedata, f"crafted_{maker}")(width, height)
    assert await _codes(images.hosted.upload(data)) == 5400


async def test_dimensions_at_the_limits_pass(images: Images) -> None:
    from .imagedata import crafted_png

    assert (await images.hosted.upload(crafted_png(12_000, 8_333))).id  # 99.996 MP
    assert (await images.hosted.upload(crafted_png(12_000, 1))).id


def test_a_huge_header_is_rejected_without_decoding() -> None:
    from imgtui.service.sniff import sniff_image

    from .imagedata import crafted_png

    bomb = crafted_png(50_000, 50_000)
    start = time.perf_counter()
    for _ in range(1000):
        with pytest.raises(ImagesError) as info:
            sniff_image(bomb)
    per_call = (time.perf_counter() - start) / 1000
    assert info.value.code == 5400
    assert per_call < 100e-6  # microseconds, not a decode


def _metadata_of_size(size: int) -> dict:
    # {"k":"éé…"} : 8 bytes of JSON syntax, 2 bytes per "é", 1 for a trailing "a".
    body = "é" * ((size - 8) // 2) + "a" * ((size - 8) % 2)
    return {"k": body}


async def test_metadata_limit_is_1024_utf8_bytes(images: Images) -> None:
    fits = _metadata_of_size(1024)
    meta = await images.hosted.upload(png(), metadata=fits)
    assert meta.meta == fits
    assert await _codes(images.hosted.upload(png(), metadata=_metadata_of_size(1025))) == 5400
    assert await _codes(images.hosted.image(meta.id).update(metadata=_metadata_of_size(1025))) == 5400
    assert (await images.hosted.image(meta.id).details()).meta == fits


@pytest.mark.parametrize(
    "bad",
    [[1, 2], "text", 5, True, {"a": float("nan")}, {"a": object()}],
    ids=["list", "str", "int", "bool", "nan", "object"],
)
async def test_metadata_must_be_a_json_object(images: Images, bad) -> None:
    assert await _codes(images.hosted.upload(png(), metadata=bad)) == 5400
    assert await _count(images) == 0


@pytest.mark.parametrize("creator", [5, "x" * 1025])
async def test_bad_creator_is_5400(images: Images, creator) -> None:
    assert await _codes(images.hosted.upload(png(), creator=creator)) == 5400


@pytest.mark.parametrize("filename", ["", "x" * 256, "a\nb", 7])
async def test_bad_filename_is_5400(images: Images, filename) -> None:
    assert await _codes(images.hosted.upload(png(), filename=filename)) == 5400


async def test_base64_uploads(images: Images) -> None:
    encoded = base64.b64encode(png())
    meta = await images.hosted.upload(encoded, encoding="base64")
    assert await images.hosted.image(meta.id).read() == png()
    wrapped = b"\n".join(encoded[i : i + 8] for i in range(0, len(encoded), 8))
    assert (await images.hosted.upload(wrapped, encoding="base64")).id
    assert await _codes(images.hosted.upload(b"!!not base64!!", encoding="base64")) == 5400
    assert await _codes(images.hosted.upload(encoded[:-3], encoding="base64")) == 5400
    assert await _codes(images.hosted.upload(png(), encoding="hex")) == 5400


async def _chunks():
    data = png()
    for i in range(0, len(data), 10):
        yield data[i : i + 10]


async def test_every_source_type(images: Images, tmp_path) -> None:
    path = tmp_path / "holiday.png"
    path.write_bytes(png())
    sources = {
        "bytes": (png(), "image.png"),
        "bytearray": (bytearray(png()), "image.png"),
        "memoryview": (memoryview(png()), "image.png"),
        "stream": (_chunks(), "image.png"),
        "bytesio": (io.BytesIO(png()), "image.png"),
        "path": (path, "holiday.png"),
    }
    for label, (source, filename) in sources.items():
        meta = await images.hosted.upload(source)
        assert meta.filename == filename, label
        assert await images.hosted.image(meta.id).read() == png(), label
    with path.open("rb") as handle:
        assert (await images.hosted.upload(handle)).filename == "holiday.png"
    assert (await images.hosted.upload(jpeg())).filename == "image.jpg"


async def test_bad_sources_are_5400(images: Images, tmp_path) -> None:
    path = tmp_path / "holiday.png"
    path.write_bytes(png())
    assert await _codes(images.hosted.upload(str(path))) == 5400  # a str is not a path
    assert await _codes(images.hosted.upload(tmp_path / "missing.png")) == 5400
    with path.open("r", encoding="latin-1") as text:
        assert await _codes(images.hosted.upload(text)) == 5400

    async def strings():
        yield "not bytes"

    assert await _codes(images.hosted.upload(strings())) == 5400
    assert await _count(images) == 0


async def test_closed_files_and_odd_memoryviews(images: Images) -> None:
    closed = io.BytesIO(png())
    closed.close()
    assert await _codes(images.hosted.upload(closed)) == 5400
    import array

    words = array.array("B", png())
    meta = await images.hosted.upload(memoryview(words))
    assert await images.hosted.image(meta.id).read() == png()
    wide = memoryview(png() + bytes(-len(png()) % 4)).cast("I")  # 4-byte items: still the same bytes
    assert await images.hosted.image((await images.hosted.upload(wide)).id).read() == bytes(wide)
    assert await _codes(images.hosted.upload(memoryview(png())[::2])) == 5400
