"""The preview's non-widget parts: decode, geometry, cache, loader, renderer choice."""

from __future__ import annotations

import asyncio
import fcntl
import io
import os
import pty
import struct
import subprocess
import sys
import termios
import zlib
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from imgtui.common.lru import ByteBudgetLRU
from imgtui.service import ErrorCode, Images, ImagesError
from imgtui.ui.preview import terminal
from imgtui.ui.preview.decode import Thumbnail, Unpreviewable, decode_thumbnail
from imgtui.ui.preview.geometry import decode_box, fit_cells
from imgtui.ui.preview.loader import PreviewLoader, PreviewMessage, bucket_box
from imgtui.ui.preview.terminal import PREVIEW_MODES, CellSize, prepare_terminal

CELL = CellSize(10, 20)


# -- image bytes --------------------------------------------------------------------


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload).to_bytes(4, "big")
    return len(payload).to_bytes(4, "big") + kind + payload + crc


def corrupt_png(width: int = 32, height: int = 32) -> bytes:
    """A PNG with a valid header, IHDR and IEND (it passes the upload sniffer and
    Pillow's open()) but an IDAT of garbage, so decoding the pixels fails."""
    ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", b"this is not a zlib stream at all" * 4)
        + png_chunk(b"IEND", b"")
    )


def animated_gif(frames: int = 3) -> bytes:
    images = [Image.new("RGB", (20, 10), (80 * i, 0, 0)) for i in range(frames)]
    return encode(images[0], "GIF", save_all=True, append_images=images[1:], duration=50, loop=0)


SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8"/></svg>'
HUGE_SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="100000"><rect width="8" height="8"/></svg>'


# -- decode -------------------------------------------------------------------------


def test_jpeg_is_decoded_small_and_fits_the_box():
    data = encode(Image.new("RGB", (1600, 1200), (10, 120, 200)), "JPEG", quality=90)
    thumb = decode_thumbnail(data, (320, 320))
    assert thumb.format == "JPEG"
    assert thumb.original_size == (1600, 1200)
    assert thumb.image.size == (320, 240)
    assert thumb.image.mode == "RGB"
    assert thumb.note is None
    r, g, b = thumb.image.getpixel((100, 100))
    assert abs(r - 10) < 8 and abs(g - 120) < 8 and abs(b - 200) < 8


def test_decode_without_draft_gives_the_same_size():
    data = encode(Image.new("RGB", (800, 400), "white"), "JPEG")
    assert decode_thumbnail(data, (200, 200), use_draft=False).image.size == (200, 100)


def test_small_image_is_not_enlarged():
    thumb = decode_thumbnail(encode(Image.new("RGB", (40, 30)), "PNG"), (640, 640))
    assert thumb.image.size == (40, 30)


def test_transparent_png_keeps_alpha_and_palette_becomes_rgba():
    rgba = decode_thumbnail(encode(Image.new("RGBA", (16, 16), (255, 0, 0, 0)), "PNG"), (64, 64))
    assert rgba.image.mode == "RGBA"
    palette = Image.new("P", (16, 16), 0)
    palette.info["transparency"] = 0
    assert decode_thumbnail(encode(palette, "PNG", transparency=0), (64, 64)).image.mode == "RGBA"


def test_sixteen_bit_greyscale_is_scaled_not_clipped():
    grey = Image.new("I;16", (8, 8), 40000)
    pixel = decode_thumbnail(encode(grey, "PNG"), (64, 64)).image.getpixel((0, 0))
    assert pixel[0] == 40000 // 256


def test_animated_gif_gives_first_frame_and_says_so():
    thumb = decode_thumbnail(animated_gif(3), (64, 64))
    assert thumb.note == "Animated GIF: first frame of 3"
    assert thumb.image.getpixel((0, 0))[:3] == (0, 0, 0)  # frame 0 is black


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_gif_bomb_is_refused_before_pillow_decodes_it():
    from tests.service.imagedata import gif_bomb

    # 1x1 on its face, 12000x12000 to Pillow (144 MP: under Pillow's own 179 MP refusal).
    with pytest.raises(Unpreviewable, match=r"12000x12000 px, over the limits"):
        decode_thumbnail(gif_bomb(), (64, 64))


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("size", [(12_001, 10), (11_000, 10_000)], ids=["side", "area"])
def test_headers_over_the_pixel_ceiling_are_refused_without_a_decode(size):
    ihdr = struct.pack(">IIBBBBB", *size, 8, 2, 0, 0, 0)
    header_only = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IEND", b"")
    with pytest.raises(Unpreviewable, match=f"{size[0]}x{size[1]} px, over the limits"):
        decode_thumbnail(header_only, (64, 64))


def test_an_image_at_the_limit_side_still_previews():
    thumb = decode_thumbnail(encode(Image.new("L", (12_000, 2)), "PNG"), (64, 64))
    assert thumb.original_size == (12_000, 2)


def test_svg_is_rasterised_at_the_box_size():
    thumb = decode_thumbnail(SVG, (64, 32))
    assert thumb.format == "SVG" and thumb.image.size == (32, 32)  # a square scaled up to fit
    assert thumb.image.mode == "RGBA" and thumb.image.getpixel((16, 16))[3] == 255


def test_an_svg_with_a_huge_canvas_is_refused():
    with pytest.raises(Unpreviewable, match="over the limits"):
        decode_thumbnail(HUGE_SVG, (64, 64))


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (corrupt_png(), "corrupt"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "corrupt|not an image"),
        (b"hello, world", "not an image"),
        (b"", "not an image"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 32, "HEIC/AVIF"),
    ],
)
def test_undecodable_bytes_raise_unpreviewable_with_a_reason(data, expected):
    with pytest.raises(Unpreviewable, match=expected):
        decode_thumbnail(data, (64, 64))


def test_truncated_jpeg_is_reported_not_crashed():
    data = encode(Image.new("RGB", (300, 300), "red"), "JPEG")
    with pytest.raises(Unpreviewable):
        decode_thumbnail(data[: len(data) // 3], (64, 64))


# -- geometry -------------------------------------------------------------------------


def test_fit_keeps_screen_aspect_with_tall_cells():
    # 4:3 photo in a 60x30 panel of 10x20 px cells: 600x600 px available -> 600x450 px.
    assert fit_cells((4000, 3000), (60, 30), CELL, "tgp") == (60, 22)


def test_fit_limits_by_height_for_portrait_images():
    width, height = fit_cells((1000, 4000), (60, 30), CELL, "halfcell")
    assert height == 30 and 0 < width < 60


def test_fit_never_enlarges_past_native_and_never_returns_zero():
    assert fit_cells((16, 16), (60, 30), CELL, "tgp") == (2, 1)
    assert fit_cells((1, 1), (60, 30), CELL, "tgp") == (1, 1)
    assert fit_cells((10000, 1), (60, 30), CELL, "halfcell") == (60, 1)
    assert fit_cells((16, 16), (60, 30), CELL, "halfcell") == (16, 8)


def test_decode_box_depends_on_the_renderer():
    assert decode_box("tgp", (60, 30), CELL) == (600, 600)
    assert decode_box("halfcell", (60, 30), CELL) == (120, 120)
    assert decode_box("unicode", (60, 30), CELL) == (120, 60)


def test_bucket_box_rounds_up_to_steps():
    assert bucket_box(600, 600) == (640, 640)
    assert bucket_box(640, 1) == (640, 64)


# -- cache ----------------------------------------------------------------------------


def test_lru_is_bounded_by_bytes_and_evicts_least_recent():
    cache: ByteBudgetLRU[str, bytes] = ByteBudgetLRU(10, len)
    cache.put("a", b"1234")
    cache.put("b", b"1234")
    assert cache.get("a") == b"1234"  # a is now the most recent
    cache.put("c", b"1234")
    assert "b" not in cache and "a" in cache and "c" in cache
    assert cache.used_bytes == 8
    cache.put("huge", b"x" * 11)  # larger than the whole budget: not kept, nothing evicted
    assert "huge" not in cache and len(cache) == 2
    cache.put("a", b"12")  # replacing updates the accounting
    assert cache.used_bytes == 6
    assert cache.discard_where(lambda key: key in {"a", "c"}) == 2
    assert cache.used_bytes == 0 and len(cache) == 0


# -- loader against a real local library ---------------------------------------------


class SpyBackend:
    """A real backend, with bytes() calls counted and optionally slowed or failed."""

    def __init__(self, backend) -> None:
        self._backend = backend
        self.calls: Counter[str] = Counter()
        self.error: Exception | None = None
        self.chunk_delay = 0.0
        self.gate: asyncio.Event | None = None  # when set, streams wait for it first
        self.closed: list[str] = []

    def __getattr__(self, name):
        return getattr(self._backend, name)

    async def bytes(self, image_id: str):
        self.calls[image_id] += 1
        if self.error is not None:
            raise self.error
        stream = await self._backend.bytes(image_id)
        if stream is None:
            return None
        return self._slow(image_id, stream)

    async def _slow(self, image_id, stream):
        try:
            if self.gate is not None:
                await self.gate.wait()
            async for chunk in stream:
                for start in range(0, len(chunk), 256):
                    await asyncio.sleep(self.chunk_delay)
                    yield chunk[start : start + 256]
        finally:
            self.closed.append(image_id)
            await stream.aclose()


@pytest.fixture
async def library(tmp_path: Path):
    images = Images.local(tmp_path / "library")
    try:
        yield images
    finally:
        await images.aclose()


@pytest.fixture
async def spied(library: Images):
    spy = SpyBackend(library.backend)
    return Images(spy), spy


async def upload(images: Images, data: bytes) -> str:
    return (await images.hosted.upload(data)).id


async def test_loader_caches_thumbnails_and_originals(spied):
    images, spy = spied
    image_id = await upload(images, encode(Image.new("RGB", (300, 200), "blue"), "PNG"))
    loader = PreviewLoader(images)
    try:
        first = await loader.load(image_id, (128, 128))
        again = await loader.load(image_id, (128, 128))
        bigger = await loader.load(image_id, (256, 256))  # new box: decode again, no fetch
        assert isinstance(first, Thumbnail) and again is first
        assert isinstance(bigger, Thumbnail) and bigger.image.size == (256, 171)
        assert spy.calls[image_id] == 1
        assert loader.cached(image_id, (128, 128)) is first
        loader.forget(image_id)
        assert loader.cached(image_id, (128, 128)) is None
        await loader.load(image_id, (128, 128))
        assert spy.calls[image_id] == 2
    finally:
        loader.close()


async def test_forget_during_a_load_keeps_the_stale_result_out_of_the_caches(spied):
    images, spy = spied
    image_id = await upload(images, encode(Image.effect_noise((200, 200), 60), "PNG"))
    spy.gate = asyncio.Event()
    loader = PreviewLoader(images)
    try:
        task = asyncio.create_task(loader.load(image_id, (64, 64)))
        await asyncio.sleep(0.02)
        loader.forget(image_id)  # e.g. the image was re-uploaded meanwhile
        spy.gate.set()
        assert isinstance(await task, Thumbnail)  # the caller still gets its answer
        assert image_id not in loader.originals and loader.cached(image_id, (64, 64)) is None
    finally:
        loader.close()


async def test_loader_works_again_after_close(spied):
    images, _ = spied
    image_id = await upload(images, encode(Image.new("RGB", (20, 20)), "PNG"))
    loader = PreviewLoader(images)
    loader.close()
    assert isinstance(await loader.load(image_id, (64, 64)), Thumbnail)
    loader.close()


async def test_loader_turns_every_failure_into_a_message(spied, monkeypatch):
    import imgtui.workflows.retry as retry

    monkeypatch.setattr(retry, "READ_BACKOFF", (0.0,))
    images, spy = spied
    svg_id = await upload(images, HUGE_SVG)
    corrupt_id = await upload(images, corrupt_png())
    loader = PreviewLoader(images)
    try:
        svg = await loader.load(svg_id, (64, 64))
        corrupt = await loader.load(corrupt_id, (64, 64))
        missing = await loader.load("no-such-image", (64, 64))
        assert isinstance(svg, PreviewMessage) and "100000x100000 px, over the limits" in svg.text
        assert isinstance(corrupt, PreviewMessage) and "corrupt" in corrupt.text
        assert isinstance(missing, PreviewMessage) and missing.is_error and "not found" in missing.text
        spy.error = ImagesError(ErrorCode.NETWORK, "connection refused")
        failed = await loader.load("whatever", (64, 64))
        assert failed == PreviewMessage("Preview failed: ERROR 9000: connection refused", is_error=True)
        spy.error = RuntimeError("secret-looking text")
        odd = await loader.load("whatever", (64, 64))
        assert isinstance(odd, PreviewMessage) and "RuntimeError" in odd.text
        assert "secret" not in odd.text
    finally:
        loader.close()


async def test_verdicts_are_remembered_but_failures_are_retried(spied, monkeypatch):
    import imgtui.workflows.retry as retry

    monkeypatch.setattr(retry, "READ_BACKOFF", ())  # one fetch a load: counting loads here
    images, spy = spied
    svg_id = await upload(images, HUGE_SVG)
    loader = PreviewLoader(images)
    try:
        first = await loader.load(svg_id, (64, 64))
        assert isinstance(first, PreviewMessage)
        assert await loader.load(svg_id, (128, 128)) == first  # any size: no second fetch
        assert loader.cached(svg_id, (32, 32)) == first
        assert spy.calls[svg_id] == 1
        loader.forget(svg_id)
        await loader.load(svg_id, (64, 64))
        assert spy.calls[svg_id] == 2

        spy.error = ImagesError(ErrorCode.TIMEOUT, "timed out")
        await loader.load("flaky", (64, 64))
        await loader.load("flaky", (64, 64))
        assert spy.calls["flaky"] == 2 and loader.cached("flaky", (64, 64)) is None
    finally:
        loader.close()


async def test_loader_refuses_oversized_downloads_and_closes_the_stream(spied):
    images, spy = spied
    image_id = await upload(images, encode(Image.effect_noise((200, 200), 60), "PNG"))
    loader = PreviewLoader(images, max_fetch_bytes=1000)
    try:
        outcome = await loader.load(image_id, (64, 64))
        assert isinstance(outcome, PreviewMessage) and "over 0 MiB" in outcome.text
        assert spy.closed == [image_id]
        assert image_id not in loader.originals
    finally:
        loader.close()


async def test_cancelling_a_load_abandons_the_download(spied):
    images, spy = spied
    image_id = await upload(images, encode(Image.effect_noise((200, 200), 60), "PNG"))
    spy.chunk_delay = 0.05
    loader = PreviewLoader(images)
    try:
        task = asyncio.create_task(loader.load(image_id, (64, 64)))
        await asyncio.sleep(0.12)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert spy.closed == [image_id]
        assert image_id not in loader.originals and loader.cached(image_id, (64, 64)) is None
    finally:
        loader.close()


# -- renderer choice --------------------------------------------------------------------


def test_prepare_terminal_never_raises_under_pytest_and_returns_a_mode():
    for mode in PREVIEW_MODES:
        assert prepare_terminal(mode) in PREVIEW_MODES
    assert prepare_terminal("off") == "off"
    assert prepare_terminal("halfcell") == "halfcell"
    assert prepare_terminal("nonsense") in PREVIEW_MODES  # type: ignore[arg-type]
    if not sys.__stdout__.isatty():  # textual-image then skips the probe: unicode
        assert prepare_terminal("auto") == "unicode"


def test_prepare_terminal_is_off_when_textual_image_cannot_load(monkeypatch):
    # prepare_terminal only looks it up (the import waits for the first picture).
    monkeypatch.setattr(terminal, "_renderer_available", lambda: False)
    assert prepare_terminal("auto") == "off"
    assert prepare_terminal("halfcell") == "off"


@pytest.mark.parametrize(
    "winsize",
    [
        pytest.param(None, id="0x0-pty"),  # a fresh PTY: textual-image divides by zero
        pytest.param((40, 120, 1200, 800), id="silent-pty"),  # never answers the probe
    ],
)
def test_prepare_terminal_on_a_bad_tty_falls_back_to_halfcell_silently(winsize):
    """On a 0x0 PTY textual-image's import raises ZeroDivisionError (it catches only
    OSError): the import is retried with the probe answered, giving halfcell. On a PTY
    that never answers, the probe times out and logs a warning, which must not be
    printed. Either way the only stderr output is our own result."""
    master, slave = pty.openpty()
    if winsize is not None:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", *winsize))
    script = "from imgtui.ui.preview.terminal import prepare_terminal as p; import sys; sys.stderr.write(p('auto'))"
    try:
        result = subprocess.run(
            [sys.executable, "-c", script],
            stdin=slave,
            stdout=slave,
            stderr=subprocess.PIPE,
            timeout=30,
            check=False,
            env={**os.environ, "TERM": "xterm-256color"},
        )
    finally:
        os.close(slave)
        os.close(master)
    assert result.returncode == 0
    assert result.stderr.decode() == "halfcell"


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_widget_never_probes_a_real_tty_once_the_app_may_be_running(monkeypatch):
    """Without prepare_terminal() first, importing textual-image on a TTY would race
    Textual for stdin: the widget turns previews off instead."""
    prepare_terminal("halfcell")
    monkeypatch.setattr(sys, "__stdout__", FakeTTY())
    assert terminal.resolve_in_app("halfcell") == "halfcell"  # prepared: safe
    monkeypatch.setattr(terminal, "_prepared", None)  # never prepared, never imported
    monkeypatch.delitem(sys.modules, "textual_image.widget", raising=False)
    assert terminal.resolve_in_app("halfcell") == "off"
    assert terminal.resolve_in_app("auto") == "off"
    assert terminal.cell_size() == CellSize(10, 20)  # and no cell-size query either


async def test_a_transient_failure_is_fetched_again(spied, monkeypatch):
    """A 500 or a dropped connection once: the preview still comes, after a short backoff."""
    import imgtui.workflows.retry as retry

    monkeypatch.setattr(retry, "READ_BACKOFF", (0.01, 0.01))
    images, spy = spied
    image_id = await upload(images, encode(Image.new("RGB", (80, 60), "green"), "PNG"))
    real_bytes = SpyBackend.bytes
    failures = [ImagesError(ErrorCode.NETWORK, "connection reset")]

    async def flaky(self, wanted):
        if failures:
            self.calls[wanted] += 1
            raise failures.pop()
        return await real_bytes(self, wanted)

    monkeypatch.setattr(SpyBackend, "bytes", flaky)
    loader = PreviewLoader(images)
    try:
        shown = await loader.load(image_id, (64, 64))
        assert not isinstance(shown, PreviewMessage) and spy.calls[image_id] == 2
    finally:
        loader.close()
