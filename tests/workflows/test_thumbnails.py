"""The grid's thumbnail source against a real local library (temp dir) and, for the delivery
path, `imgtui serve` over loopback: caches, staleness, budgets, failures, cancellation."""

from __future__ import annotations

import asyncio
import io
import itertools
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from PIL import Image

from imgtui.service import ErrorCode, ImageMetadata, Images, ImagesError
from imgtui.workflows import thumbnails as thumbnails_module
from imgtui.workflows.thumbnails import ThumbnailResult, Thumbnails, pick_variant
from tests.rest_harness import rest_server_and_images

BOX = (96, 64)


def jpeg(color: tuple[int, int, int], size: tuple[int, int] = (400, 300)) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", size, color)
    image.putpixel((0, 0), (color[0] ^ 1, 0, 0))  # distinct bytes per call site, same look
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def noise_jpeg(seed: int, size: tuple[int, int] = (320, 240)) -> bytes:
    out = io.BytesIO()
    Image.effect_noise(size, 60 + seed).convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue()


def corrupt_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (1, 2, 3)).save(out, "PNG")
    data = out.getvalue()
    start = data.index(b"IDAT") + 6  # keep the zlib header: the pixel stream itself breaks
    return data[:start] + b"\xff" * 20 + data[start + 20 :]


def centre(result: ThumbnailResult) -> tuple[int, ...]:
    assert result.image is not None, result.problem
    return result.image.convert("RGB").getpixel((result.image.width // 2, result.image.height // 2))


def close_to(pixel: tuple[int, ...], color: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 12 for a, b in zip(pixel, color, strict=False))


async def settle_until(predicate: Callable[[], bool], within: float = 10.0) -> None:
    """Let the loop run until `predicate()` holds (fails after `within` seconds)."""
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.01)


@pytest.fixture
async def library(tmp_path: Path) -> AsyncIterator[Images]:
    ticks = itertools.count(1_700_000_000_000, 1000)  # a re-upload gets a later time
    images = Images.local(tmp_path / "lib", clock=lambda: next(ticks))
    try:
        yield images
    finally:
        await images.aclose()


@pytest.fixture
async def thumbs(library: Images, tmp_path: Path) -> AsyncIterator[Thumbnails]:
    source = Thumbnails(library, cache_dir=tmp_path / "cache")
    try:
        yield source
    finally:
        await source.aclose()


async def test_a_local_thumbnail_is_made_once_then_comes_from_the_caches(library, thumbs, tmp_path):
    record = await library.hosted.upload(jpeg((220, 30, 30)), id="red")
    assert thumbs.peek(record, BOX) is None
    first = await thumbs.get(record, BOX)
    assert first.source == "original" and first.problem is None
    assert first.image is not None and first.image.size == (85, 64)  # 4:3 inside 96x64
    assert close_to(centre(first), (220, 30, 30))
    assert thumbs.source_label == "thumbnails: local cache"
    hit = thumbs.peek(record, BOX)
    assert hit is not None and hit.source == "cache" and hit.image is not None

    fresh = Thumbnails(library, cache_dir=tmp_path / "cache")  # a new session: disk only
    try:
        again = await fresh.get(record, BOX)
        assert again.source == "cache" and again.image is not None and again.image.size == (85, 64)
        smaller = await fresh.get(record, (120, 80))  # the same disk bucket serves other boxes
        assert smaller.source == "cache" and smaller.image is not None and smaller.image.size == (107, 80)
    finally:
        await fresh.aclose()


async def test_a_reupload_under_the_same_id_never_shows_the_old_picture(library, thumbs, tmp_path):
    old = await library.hosted.upload(jpeg((220, 30, 30)), id="same")
    assert close_to(centre(await thumbs.get(old, BOX)), (220, 30, 30))
    assert await library.hosted.image("same").delete()
    new = await library.hosted.upload(jpeg((30, 30, 220)), id="same")
    assert new.uploaded != old.uploaded
    assert close_to(centre(await thumbs.get(new, BOX)), (30, 30, 220))
    fresh = Thumbnails(library, cache_dir=tmp_path / "cache")
    try:
        # Even a stale row (the old record) is answered with the stored file's picture.
        assert close_to(centre(await fresh.get(old, BOX)), (30, 30, 220))
    finally:
        await fresh.aclose()


async def test_the_disk_budget_is_respected(library, tmp_path):
    budget = 40_000
    source = Thumbnails(library, cache_dir=tmp_path / "cache", disk_budget_bytes=budget)
    try:
        records = [await library.hosted.upload(noise_jpeg(n), id=f"n{n}") for n in range(12)]
        for record in records:
            result = await source.get(record, (256, 256))
            assert result.image is not None
        on_disk = sum(path.stat().st_size for path in (tmp_path / "cache").rglob("*.thumb"))
        assert 0 < on_disk <= budget
        assert source.disk.disk_bytes() == on_disk
        # The most recent survive; the oldest went first.
        assert (
            await Thumbnails(library, cache_dir=tmp_path / "cache").get(records[-1], (256, 256))
        ).source == "cache"
    finally:
        await source.aclose()


async def test_a_corrupt_cache_file_is_ignored_and_rebuilt(library, thumbs, tmp_path):
    record = await library.hosted.upload(jpeg((20, 200, 20)), id="green")
    await thumbs.get(record, BOX)
    (cached,) = (tmp_path / "cache").rglob("*.thumb")
    cached.write_bytes(b"\xff\xd8 not a jpeg at all")
    fresh = Thumbnails(library, cache_dir=tmp_path / "cache")
    try:
        result = await fresh.get(record, BOX)
        assert result.source == "original" and close_to(centre(result), (20, 200, 20))
        with Image.open(cached) as rebuilt:
            assert rebuilt.format == "JPEG"
    finally:
        await fresh.aclose()


async def test_a_planted_pixel_bomb_in_the_cache_is_not_decoded(library, thumbs, tmp_path):
    from tests.service.imagedata import crafted_png

    record = await library.hosted.upload(jpeg((90, 90, 90)), id="planted")
    await thumbs.get(record, BOX)
    (cached,) = (tmp_path / "cache").rglob("*.thumb")
    cached.write_bytes(crafted_png(50_000, 50_000))
    fresh = Thumbnails(library, cache_dir=tmp_path / "cache")
    try:
        assert (await fresh.get(record, BOX)).source == "original"  # ignored, made again
    finally:
        await fresh.aclose()


async def test_bad_images_become_placeholders_not_exceptions(library, thumbs):
    broken = await library.hosted.upload(corrupt_png(), id="broken")
    gone = ImageMetadata(id="gone", uploaded=broken.uploaded)
    hostile_svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="100000"/>'
    huge = await library.hosted.upload(hostile_svg, id="huge-svg")
    assert (await thumbs.get(broken, BOX)).problem == "corrupt"
    assert (await thumbs.get(gone, BOX)).problem == "missing"
    assert (await thumbs.get(huge, BOX)).problem == "too large"


async def test_an_svg_thumbnail_is_rasterised(library, thumbs):
    logo = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 2 1"><rect width="2" height="1" fill="#00f"/></svg>'
    record = await library.hosted.upload(logo, id="logo")
    result = await thumbs.get(record, BOX)
    assert result.image is not None and result.image.size == (96, 48)
    assert centre(result) == (0, 0, 255)


async def test_a_failing_backend_gives_its_code_and_recovers(library, thumbs, monkeypatch):
    record = await library.hosted.upload(jpeg((200, 200, 0)), id="flaky")
    backend = library.backend
    real_bytes = backend.bytes

    async def failing(image_id: str):
        raise ImagesError(ErrorCode.STORAGE, "disk I/O error")

    monkeypatch.setattr(backend, "bytes", failing)
    results = await asyncio.gather(*(thumbs.get(record, (size, size)) for size in (32, 48, 64)))
    assert {result.problem for result in results} == {"error 9001"}
    monkeypatch.setattr(backend, "bytes", real_bytes)  # failures are not remembered
    assert (await thumbs.get(record, (32, 32))).image is not None


async def test_cancelled_requests_never_decode_and_priority_orders_the_queue(library, tmp_path, monkeypatch):
    records = [await library.hosted.upload(jpeg((10 * n, 0, 0)), id=f"p{n}") for n in range(5)]
    source = Thumbnails(library, cache_dir=tmp_path / "cache", threads=1)
    release = threading.Event()
    decoded: list[int] = []
    real_decode = thumbnails_module.decode_thumbnail

    def slow_decode(data: bytes, box: tuple[int, int]):
        thumbnail = real_decode(data, box)
        decoded.append(thumbnail.image.convert("RGB").getpixel((5, 5))[0] // 10)
        if len(decoded) == 1:
            release.wait(10)  # the first decode holds the only thread
        return thumbnail

    monkeypatch.setattr(thumbnails_module, "decode_thumbnail", slow_decode)
    try:
        first = asyncio.create_task(source.get(records[0], BOX))
        await settle_until(lambda: bool(decoded))
        queued = {
            n: asyncio.create_task(source.get(records[n], BOX, priority=priority))
            for n, priority in ((1, 5), (2, 9), (3, 1), (4, 3))
        }
        await settle_until(lambda: source._decode_gate.queued == 4)
        queued[2].cancel()  # scrolled away
        await asyncio.sleep(0)
        release.set()
        assert (await first).image is not None
        for n in (1, 3, 4):
            assert (await queued[n]).image is not None
        with pytest.raises(asyncio.CancelledError):
            await queued[2]
        assert decoded == [0, 3, 4, 1]  # by priority; the cancelled one never decoded
    finally:
        release.set()
        await source.aclose()


async def test_the_same_picture_asked_twice_is_made_once_and_survives_one_cancel(
    library, thumbs, monkeypatch
):
    record = await library.hosted.upload(jpeg((0, 90, 180)), id="twice")
    calls: list[int] = []
    real_decode = thumbnails_module.decode_thumbnail

    def counting(data: bytes, box: tuple[int, int]):
        calls.append(1)
        return real_decode(data, box)

    monkeypatch.setattr(thumbnails_module, "decode_thumbnail", counting)
    impatient = asyncio.create_task(thumbs.get(record, BOX))
    patient = asyncio.create_task(thumbs.get(record, BOX, priority=3))
    await asyncio.sleep(0)
    impatient.cancel()
    result = await patient
    assert result.image is not None and calls == [1]
    with pytest.raises(asyncio.CancelledError):
        await impatient
    thumbs.forget("twice")
    assert thumbs.peek(record, BOX) is None


async def test_memory_budget_bounds_what_peek_keeps(library, tmp_path):
    source = Thumbnails(library, cache_dir=tmp_path / "cache", memory_budget_bytes=64 * 48 * 3 * 2)
    try:
        records = [await library.hosted.upload(jpeg((n * 40, 0, 0)), id=f"m{n}") for n in range(4)]
        for record in records:
            await source.get(record, (64, 48))
        assert source.peek(records[0], (64, 48)) is None  # evicted
        assert source.peek(records[-1], (64, 48)) is not None
        assert source.memory.used_bytes <= source.memory.budget_bytes
    finally:
        await source.aclose()


def test_the_smallest_whole_picture_variant_at_least_the_box_is_picked():
    from imgtui.service.account import Variant, VariantOptions

    variants = [
        Variant("public", VariantOptions()),
        Variant("hero", VariantOptions(width=1600, height=1200)),
        Variant("thumb", VariantOptions(width=200, height=200)),
        Variant("tiny", VariantOptions(width=64, height=64)),
        Variant("square", VariantOptions(fit="cover", width=256, height=256)),
    ]
    assert pick_variant(variants, (128, 128)).id == "thumb"
    assert pick_variant(variants, (300, 300)).id == "hero"
    assert pick_variant(variants, (2000, 2000)) is None  # only public: no smaller than the original


# ------------------------------------------------------------------- over REST (imgtui serve)


async def test_over_rest_flexible_then_named_variant_then_original(tmp_path):
    async with rest_server_and_images(tmp_path / "served") as (_server, images):
        record = await images.hosted.upload(jpeg((0, 160, 0), (1200, 900)), id="photo")

        async def fresh_get(box: tuple[int, int]) -> tuple[ThumbnailResult, str]:
            source = Thumbnails(images, cache_dir=tmp_path / f"cache-{len(list(tmp_path.iterdir()))}")
            try:
                result = await source.get(record, box)
                return result, source.source_label
            finally:
                await source.aclose()

        plain, label = await fresh_get(BOX)
        assert plain.source == "original" and label == "thumbnails: originals"
        assert plain.image is not None and plain.image.size == (85, 64)

        await images.account.variants.create(
            "thumb", {"fit": "scale-down", "width": 160, "height": 160, "metadata": "none"}
        )
        named, label = await fresh_get(BOX)
        assert named.source == "variant:thumb" and label == "thumbnails: variant 'thumb'"
        assert (
            close_to(centre(named), (0, 160, 0)) and named.image is not None and named.image.size == (85, 64)
        )

        await images.account.settings.update(flexible_variants=True)
        flexible, label = await fresh_get(BOX)
        assert flexible.source == "flexible:w=128" and label == "thumbnails: flexible variants"
        assert flexible.image is not None and flexible.image.size == (85, 64)

        # A cached delivery thumbnail comes back without a request.
        source = Thumbnails(images, cache_dir=tmp_path / "shared-cache")
        try:
            assert (await source.get(record, BOX)).source == "flexible:w=128"
            again = Thumbnails(images, cache_dir=tmp_path / "shared-cache")
            assert (await again.get(record, BOX)).source == "cache"
            await again.aclose()
        finally:
            await source.aclose()


async def test_over_rest_a_private_image_gets_a_signed_named_variant_never_flexible(tmp_path):
    async with rest_server_and_images(tmp_path / "served") as (_server, images):
        record = await images.hosted.upload(jpeg((150, 0, 150), (1200, 900)), require_signed_urls=True)
        await images.account.variants.create(
            "thumb", {"fit": "scale-down", "width": 160, "height": 160, "metadata": "none"}
        )
        await images.account.settings.update(flexible_variants=True)
        source = Thumbnails(images, cache_dir=tmp_path / "cache")
        try:
            result = await source.get(record, BOX)
            assert result.source == "variant:thumb" and close_to(centre(result), (150, 0, 150))
        finally:
            await source.aclose()


async def test_after_aclose_a_get_answers_closed(library, tmp_path):
    record = await library.hosted.upload(jpeg((1, 1, 1)), id="late")
    source = Thumbnails(library, cache_dir=tmp_path / "cache")
    await source.aclose()
    assert (await source.get(record, BOX)).problem == "closed"


async def test_over_rest_an_unreachable_delivery_falls_back_to_originals_then_stops_trying(tmp_path):
    async with rest_server_and_images(tmp_path / "served") as (_server, images):
        await images.account.variants.create(
            "thumb", {"fit": "scale-down", "width": 160, "height": 160, "metadata": "none"}
        )
        uploaded = [await images.hosted.upload(jpeg((0, 0, 200 - n)), id=f"far{n}") for n in range(4)]
        # The records name a delivery host where nothing listens (port 9, discard: refused).
        records = [
            record.model_copy(update={"variants": [f"http://127.0.0.1:9/h/{record.id}/public"]})
            for record in uploaded
        ]
        source = Thumbnails(images, cache_dir=tmp_path / "cache")
        try:
            for record in records:
                result = await source.get(record, BOX)
                assert result.source == "original" and result.image is not None
            assert source._delivery_failures == thumbnails_module.DELIVERY_GIVE_UP
            assert source.source_label == "thumbnails: originals (delivery not reachable)"
        finally:
            await source.aclose()


async def test_a_hostile_variant_name_reaches_the_status_line_as_safe_text(library, thumbs):
    from imgtui.service.account import Variant, VariantOptions

    thumbs._variants = [Variant("\x1b]52;c;ZXZpbA==\x07thumb", VariantOptions(width=200, height=200))]
    thumbs._prepared = True
    record = ImageMetadata(
        id="x", uploaded="2026-01-01T00:00:00Z", variants=["https://cdn.invalid/h/x/public"]
    )
    url, source = await thumbs._delivery_url(record, BOX)
    assert "\x1b" not in thumbs.source_label and "\x07" not in thumbs.source_label
    assert "\x1b" not in source and url is not None and "%1B" in url


async def test_the_default_cache_dir_honours_imgtui_cache_dir(library, tmp_path, monkeypatch):
    monkeypatch.setenv("IMGTUI_CACHE_DIR", str(tmp_path / "xdg-like"))
    source = Thumbnails(library)
    try:
        assert source.disk.root == tmp_path / "xdg-like" / "thumbnails"
    finally:
        await source.aclose()


async def test_prepare_again_sees_new_variants(tmp_path):
    async with rest_server_and_images(tmp_path / "served") as (_server, images):
        record = await images.hosted.upload(jpeg((0, 120, 120), (1200, 900)), id="later")
        source = Thumbnails(images, cache_dir=tmp_path / "cache", memory_budget_bytes=1)
        try:
            assert (await source.get(record, BOX)).source == "original"
            await images.account.settings.update(flexible_variants=True)
            await source.prepare(again=True)
            assert (await source.get(record, (200, 150))).source == "flexible:w=256"
        finally:
            await source.aclose()


async def test_an_original_larger_than_the_cap_is_not_read(library, thumbs, monkeypatch):
    record = await library.hosted.upload(jpeg((5, 5, 5)), id="big")
    monkeypatch.setattr(thumbnails_module, "MAX_FETCH_BYTES", 100)
    reads: list[str] = []
    real_bytes = library.backend.bytes

    async def spy(image_id: str):
        reads.append(image_id)
        return await real_bytes(image_id)

    monkeypatch.setattr(library.backend, "bytes", spy)
    assert (await thumbs.get(record, BOX)).problem == "too large"
    assert reads == []


async def test_an_unwritable_cache_only_means_no_cache(library, tmp_path):
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the cache folder should be")
    source = Thumbnails(library, cache_dir=blocked)
    try:
        record = await library.hosted.upload(jpeg((77, 0, 0)), id="nocache")
        assert (await source.get(record, BOX)).source == "original"
        assert (await source.get(record, (40, 40))).source == "original"  # made again, no error
        assert source.disk.disk_bytes() == 0
    finally:
        await source.aclose()


async def test_the_priority_gate_serves_lowest_first_and_skips_the_cancelled():
    from imgtui.workflows.priority_gate import PriorityGate

    gate = PriorityGate(1)
    await gate.acquire()
    order: list[str] = []

    async def wait(name: str, priority: int) -> None:
        await gate.acquire(priority)
        order.append(name)
        gate.release()

    tasks = {
        name: asyncio.create_task(wait(name, priority)) for name, priority in [("c", 3), ("a", 1), ("b", 2)]
    }
    await settle_until(lambda: gate.queued == 3)
    tasks["b"].cancel()
    await settle_until(lambda: gate.queued == 2)
    gate.release()
    await asyncio.gather(tasks["a"], tasks["c"])
    assert order == ["a", "c"] and gate.queued == 0
    with pytest.raises(ValueError):
        PriorityGate(0)


def test_a_read_never_scans_the_cache_folder_and_the_first_write_counts_every_file(tmp_path: Path) -> None:
    from imgtui.workflows.thumbnail_cache import DiskThumbnailCache, cache_key

    picture = Image.new("RGB", (64, 48), (10, 120, 200))
    keys = [cache_key("lib", n) for n in range(30)]
    first = DiskThumbnailCache(tmp_path, 10 * 2**20)
    for key in keys:
        first.store(key, picture)
    on_disk = first.disk_bytes()

    later = DiskThumbnailCache(tmp_path, 10 * 2**20)  # a new session
    loaded = later.load(keys[0])
    assert loaded is not None and loaded.size == (64, 48)
    assert later._index is None  # the first screen's reads did not walk 30 (or 60,000) files
    later.discard(keys[1])
    later.store(cache_key("lib", "new"), picture)  # the write scans: the total is right
    assert (
        later.disk_bytes()
        == on_disk - first._index[keys[1]].size + later._index[cache_key("lib", "new")].size
    )


async def test_a_get_right_after_the_last_waiter_left_starts_again_instead_of_inheriting_the_cancel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cell scrolled away and straight back: the second get() must not end in the first's
    CancelledError (its cell would show the loading glyph for good)."""
    import datetime
    from types import SimpleNamespace

    source = Thumbnails(SimpleNamespace(label="x"), cache_dir=tmp_path)  # type: ignore[arg-type]
    started = asyncio.Event()

    async def slow_make(image, box, priority):
        started.set()
        await asyncio.sleep(0.05)
        return ThumbnailResult(None, "missing", "original")

    monkeypatch.setattr(source, "_make", slow_make)
    image = SimpleNamespace(id="a", uploaded=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
    first = asyncio.create_task(source.get(image, (64, 64)))  # type: ignore[arg-type]
    await started.wait()
    first.cancel()  # scrolled away
    await asyncio.sleep(0)
    second = await source.get(image, (64, 64))  # type: ignore[arg-type]  # and back at once
    assert second.problem == "missing"
    assert first.cancelled() and source._jobs == {} and source._waiters == {}
    await source.aclose()


async def test_slow_svgs_never_take_the_raster_cells_decode_slots(
    library: Images, thumbs: Thumbnails
) -> None:
    """Two SVGs that render up to the 8 s deadline, then a JPEG: the JPEG's thumbnail comes
    at once (SVG has its own single slot; review finding: both slots waited on the child)."""
    slow = (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><filter id="f">'
        b'<feTurbulence baseFrequency="0.05" numOctaves="100000"/></filter>'
        b'<rect width="100" height="100" filter="url(#f)"/></svg>'
    )
    svgs = [await library.hosted.upload(slow, id=f"slow-{n}.svg") for n in range(2)]
    buffer = io.BytesIO()
    Image.new("RGB", (400, 300), (200, 10, 10)).save(buffer, "JPEG")
    photo = await library.hosted.upload(buffer.getvalue(), id="photo.jpg")
    waiting = [asyncio.create_task(thumbs.get(svg, (64, 64))) for svg in svgs]
    await asyncio.sleep(0.2)  # both SVGs queued or rendering
    started = time.monotonic()
    result = await asyncio.wait_for(thumbs.get(photo, (64, 64)), timeout=5)
    assert result.image is not None and time.monotonic() - started < 3
    for task in waiting:
        task.cancel()
    await asyncio.gather(*waiting, return_exceptions=True)


async def test_an_svg_past_its_render_deadline_is_refused_from_disk_next_session(
    library: Images, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The 8 s verdict is paid once per image version, not once per session."""
    from imgtui.workflows import thumbnails as module
    from imgtui.workflows.image_decode import Unpreviewable

    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'
    )
    record = await library.hosted.upload(svg, id="slow.svg")
    renders: list[int] = []

    def too_slow(data: bytes, box: tuple[int, int]):
        renders.append(1)
        raise Unpreviewable("SVG: took too long to render", "too complex")

    monkeypatch.setattr(module, "decode_thumbnail", too_slow)
    for _session in range(2):
        source = Thumbnails(library, cache_dir=tmp_path / "cache")
        try:
            result = await source.get(record, BOX)
        finally:
            await source.aclose()
        assert result.image is None and result.problem == "too complex"
    assert renders == [1]  # the second session read the verdict from disk
    (marker,) = (tmp_path / "cache").rglob("*.refused")
    marker.write_bytes(b"\x1b]0;PWNED\x07")  # a foreign file is not believed: rendered again
    source = Thumbnails(library, cache_dir=tmp_path / "cache")
    try:
        assert (await source.get(record, BOX)).problem == "too complex"
    finally:
        await source.aclose()
    assert renders == [1, 1]


async def test_warm_reads_the_disk_cache_into_memory_and_never_an_original(library, thumbs, tmp_path):
    cached = await library.hosted.upload(jpeg((30, 200, 30)), id="cached")
    fresh = await library.hosted.upload(jpeg((30, 30, 200)), id="fresh")
    assert (await thumbs.get(cached, BOX)).image is not None  # on disk now

    session = Thumbnails(library, cache_dir=tmp_path / "cache")  # a new session: disk only
    reads: list[str] = []
    real_read = session._read_original

    async def counting_read(image_id, priority):
        reads.append(image_id)
        return await real_read(image_id, priority)

    session._read_original = counting_read
    try:
        assert await session.warm(cached, BOX) is True
        hit = session.peek(cached, BOX)
        assert hit is not None and hit.source == "cache" and close_to(centre(hit), (30, 200, 30))
        assert await session.warm(fresh, BOX) is False  # not on disk: left to get()
        assert session.peek(fresh, BOX) is None and reads == []
        await session.aclose()
        assert await session.warm(fresh, BOX) is False  # closed: nothing, no error
    finally:
        await session.aclose()


async def test_forget_all_drops_every_box_of_the_deleted_ids(library, thumbs):
    kept = await library.hosted.upload(jpeg((200, 200, 30)), id="kept")
    gone = await library.hosted.upload(jpeg((200, 30, 200)), id="gone")
    for record in (kept, gone):
        await thumbs.get(record, BOX)
        await thumbs.get(record, (48, 32))
    thumbs.forget_all(["gone", "never-there"])
    assert thumbs.peek(gone, BOX) is None and thumbs.peek(gone, (48, 32)) is None
    assert thumbs.peek(kept, BOX) is not None and thumbs.peek(kept, (48, 32)) is not None


async def test_over_rest_warm_reads_a_delivered_thumbnail_from_disk(tmp_path):
    async with rest_server_and_images(tmp_path / "served") as (_server, images):
        await images.account.variants.create(
            "thumb", {"fit": "scale-down", "width": 160, "height": 160, "metadata": "none"}
        )
        record = await images.hosted.upload(jpeg((0, 90, 160), (1200, 900)), id="photo")
        other = await images.hosted.upload(jpeg((160, 90, 0), (1200, 900)), id="other")
        first = Thumbnails(images, cache_dir=tmp_path / "cache")
        try:
            assert (await first.get(record, BOX)).source == "variant:thumb"
        finally:
            await first.aclose()
        session = Thumbnails(images, cache_dir=tmp_path / "cache")
        try:
            assert await session.warm(record, BOX) is True
            hit = session.peek(record, BOX)
            assert hit is not None and close_to(centre(hit), (0, 90, 160))
            assert await session.warm(other, BOX) is False  # never delivered: not fetched now
            assert session.peek(other, BOX) is None
        finally:
            await session.aclose()
