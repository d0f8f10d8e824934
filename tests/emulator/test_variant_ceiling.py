"""Defence in depth for files already stored (finding 3): a variant of a decompression bomb
is refused from the headers, fast and without decoding, whatever the sniffer let in."""

from __future__ import annotations

import asyncio
import io
import os
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import httpx
import pytest
from PIL import Image

from imgtui.emulator import BackgroundEmulator
from imgtui.emulator.variants import TooLargeToTransform, VariantSpec, render
from imgtui.service import Images
from imgtui.service.backend import UploadRequest
from imgtui.service.signing import CDN_PREFIX

from .bombs import gif_bomb, png_header_only

# Pillow warns past its own 89 MP default; the ceiling under test is ours.
pytestmark = pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
MiB = 1024 * 1024
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * _PAGE


@contextmanager
def peak_rss_growth(interval: float = 0.005) -> Iterator[list[int]]:
    """Samples this process's resident memory while the block runs; yields [growth in bytes]."""
    baseline, peak, done = _rss(), [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _rss() - baseline)
            done.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield peak
    finally:
        done.set()
        sampler.join(timeout=5)
        peak[0] = max(peak[0], _rss() - baseline)


def test_the_bomb_is_what_it_claims() -> None:
    bomb = gif_bomb()
    assert len(bomb) < 120_000
    assert bomb[6:10] == b"\x01\x00\x01\x00"  # a 1x1 logical screen
    small = gif_bomb(frame=40)
    with Image.open(io.BytesIO(small)) as image:
        image.load()
        assert image.size == (40, 40)


def test_render_refuses_the_bomb_before_decoding() -> None:
    started = time.perf_counter()
    with peak_rss_growth() as growth, pytest.raises(TooLargeToTransform) as refused:
        render(gif_bomb(), VariantSpec(width=100))
    assert time.perf_counter() - started < 0.5
    assert growth[0] < 40 * MiB
    assert refused.value.code == 9413 and "12000x12000" in refused.value.message


@pytest.mark.parametrize("size", [(12_001, 10), (10, 12_001), (10_001, 10_000)])
def test_render_refuses_any_side_or_area_over_the_limits(size: tuple[int, int]) -> None:
    with pytest.raises(TooLargeToTransform):
        render(png_header_only(*size), VariantSpec(width=10))


def test_render_still_resizes_images_within_the_limits() -> None:
    out = io.BytesIO()
    Image.new("RGB", (400, 300), (1, 2, 3)).save(out, "PNG")
    body, content_type = render(out.getvalue(), VariantSpec(width=100))
    assert content_type == "image/png" and Image.open(io.BytesIO(body)).size == (100, 75)


@pytest.fixture
async def library(server: BackgroundEmulator) -> AsyncIterator[Images]:
    images = Images.local(server.settings.library, delivery_base=server.base_url + CDN_PREFIX)
    yield images
    await images.aclose()


async def test_a_stored_bomb_is_refused_fast_and_in_parallel(
    server: BackgroundEmulator, library: Images
) -> None:
    """Stored straight through the backend (no sniffer in the way), as a file uploaded before
    the sniffer knew better would be."""
    stored = await library.backend.upload(
        UploadRequest(gif_bomb(), "image/gif", "bomb", "bomb.gif", False, None, None, width=1, height=1)
    )
    url = stored.variants[0].rsplit("/", 1)[0]
    async with httpx.AsyncClient(timeout=30) as web:
        started = time.perf_counter()
        with peak_rss_growth() as growth:  # the server runs in this process
            answers = await asyncio.gather(*(web.get(f"{url}/w={100 + n}") for n in range(4)))
        elapsed = time.perf_counter() - started
        for answer in answers:
            assert answer.status_code == 415, answer.text
            assert answer.headers["cf-resized"] == "err=9413"
            assert "maximum image area" in answer.text and "12000x12000" in answer.text
        assert elapsed < 2.0, f"four refusals took {elapsed:.2f} s"
        assert growth[0] < 60 * MiB, f"the server grew {growth[0] / MiB:.0f} MiB"
        # the original is still served as stored (it is the browser's to refuse)
        original = await web.get(f"{url}/public")
        assert original.status_code == 200 and original.content == gif_bomb()
