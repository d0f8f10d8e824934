"""Issue 9, finding 3: the sniffer walks every frame of GIF, APNG and animated WebP and
applies the side, area and animation limits to the real canvas, without decoding pixels."""

from __future__ import annotations

import asyncio
import io
import time
import warnings

import pytest
from PIL import Image

from imgtui.service import Images, ImagesError
from imgtui.service.rules import MAX_ANIMATION_AREA_PX, MAX_SIDE_PX, MAX_UPLOAD_BYTES
from imgtui.service.sniff import sniff_image

from .imagedata import (
    animated_gif,
    animated_webp,
    apng,
    gif_bomb,
    gif_frame,
    pillow_animation,
    still_vp8x_webp,
)


def _refused(data: bytes) -> ImagesError:
    with pytest.raises(ImagesError) as info:
        sniff_image(data)
    assert info.value.code == 5400, info.value
    return info.value


def test_the_bomb_is_the_real_thing() -> None:
    """The fixture is what the tester sent: small, 1x1 on its face, 12000x12000 to Pillow."""
    bomb = gif_bomb()
    assert 80_000 < len(bomb) < 120_000
    assert bomb[6:10] == b"\x01\x00\x01\x00"  # the logical screen says 1x1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        assert Image.open(io.BytesIO(bomb)).size == (12_000, 12_000)


async def test_gif_bomb_is_refused_at_upload(images: Images) -> None:
    with pytest.raises(ImagesError) as info:
        await images.hosted.upload(gif_bomb(), filename="bomb.gif")
    assert info.value.code == 5400
    assert "12000x12000" in info.value.message
    assert (await images.hosted.list()).images == []


def test_gif_bomb_is_judged_in_microseconds() -> None:
    bomb = gif_bomb()
    _refused(bomb)
    start = time.perf_counter()
    for _ in range(200):
        with pytest.raises(ImagesError):
            sniff_image(bomb)
    assert (time.perf_counter() - start) / 200 < 1e-3  # ~25 us here; a decode takes seconds


@pytest.mark.parametrize(
    "frame",
    [(MAX_SIDE_PX - 1, 0, 2, 1), (0, MAX_SIDE_PX, 1, 1), (0, 0, 12_000, 9_000)],
    ids=["past-the-side-by-offset", "below-the-side-by-offset", "over-the-area"],
)
def test_gif_frames_outside_a_small_screen_are_measured(frame: tuple[int, int, int, int]) -> None:
    left, top, width, height = frame
    _refused(animated_gif((1, 1), [gif_frame(0, 0, 1, 1), gif_frame(left, top, width, height, b"\x04\x05")]))


def test_gif_frames_inside_the_limits_grow_the_canvas_they_report() -> None:
    info = sniff_image(animated_gif((1, 1), [gif_frame(0, 0, 1, 1), gif_frame(30, 20, 10, 5)]))
    assert (info.width, info.height, info.frames, info.frames_area) == (40, 25, 2, 51)


def test_animation_area_counts_all_frames_together() -> None:
    side = 1000  # 1 MP a frame
    count = MAX_ANIMATION_AREA_PX // (side * side)
    frames = [gif_frame(0, 0, side, side, b"\x04\x05")] * count
    assert sniff_image(animated_gif((side, side), frames)).frames == count
    error = _refused(animated_gif((side, side), [*frames, frames[0]]))
    assert f"{count + 1} frames" in error.message


def test_apng_frames_are_walked() -> None:
    assert sniff_image(apng((10, 10), [(0, 0, 10, 10), (2, 2, 4, 4)])).frames == 2
    _refused(apng((1, 1), [(0, 0, 1, 1), (0, 0, 12_000, 12_000)]))
    _refused(apng((10, 10), [(0, 0, 10, 10), (MAX_SIDE_PX, 0, 1, 1)]))
    side = 10_000  # exactly 100 MP a frame: two of them are over
    _refused(apng((side, side), [(0, 0, side, side), (0, 0, side, side)]))


def test_animated_webp_frames_are_walked() -> None:
    assert sniff_image(animated_webp((10, 10), [(0, 0, 10, 10), (2, 2, 4, 4)])).frames == 2
    _refused(animated_webp((1, 1), [(0, 0, 1, 1), (0, 0, 12_000, 12_000)]))
    _refused(animated_webp((16, 16), [(MAX_SIDE_PX, 0, 1, 1)]))
    # A frame whose bitstream is bigger than the frame header says counts at its real size.
    _refused(animated_webp((16, 16), [(0, 0, 16, 16)], bitstream=(12_000, 12_000)))


def test_a_still_extended_webp_is_measured_by_its_bitstream_too() -> None:
    assert (sniff_image(still_vp8x_webp((5, 4), (5, 4))).width, 4) == (5, 4)
    _refused(still_vp8x_webp((1, 1), (12_000, 12_000)))


@pytest.mark.parametrize("fmt", ["GIF", "PNG", "WEBP"])
async def test_real_animations_are_still_accepted(images: Images, fmt: str) -> None:
    data = pillow_animation(fmt, frames=5, size=(40, 30))
    info = sniff_image(data)
    assert (info.width, info.height, info.frames) == (40, 30, 5)
    meta = await images.hosted.upload(data)
    assert (await images.hosted.image(meta.id).read()) == data


@pytest.mark.parametrize("fmt", ["GIF", "PNG", "WEBP"])
def test_still_images_report_one_frame(fmt: str) -> None:
    out = io.BytesIO()
    Image.new("RGB", (7, 3)).save(out, fmt)
    info = sniff_image(out.getvalue())
    assert (info.width, info.height) == (7, 3)


async def test_a_file_of_a_million_tiny_frames_does_not_stall_the_event_loop(local_images: Images) -> None:
    """The walk is per frame: ~1 s of CPU for 10 MiB of 1x1 GIF frames. It runs on a thread,
    so the loop (the TUI, `imgtui serve`) keeps answering meanwhile."""
    frame = gif_frame(0, 0, 1, 1, b"\x04\x05")
    count = (MAX_UPLOAD_BYTES - 100) // len(frame)
    data = animated_gif((1, 1), [])[:-1] + frame * count + b";"
    gaps: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticking = asyncio.create_task(ticker())
    await asyncio.sleep(0)  # the ticker starts its clock before the upload begins
    try:
        meta = await local_images.hosted.upload(data)
    finally:
        done.set()
        await ticking
    assert (await local_images.hosted.image(meta.id).details()) == meta
    assert len(gaps) > 5 and max(gaps) < 0.5, max(gaps)
