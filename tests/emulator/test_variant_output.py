"""Flexible variants cannot make the server build huge images: a result over Cloudflare's
limits is refused before a pixel is decoded, `fit=crop` never enlarges, and renders share
one pixel budget (review finding: `w=12000,h=12000,fit=squeeze` of a 4x4 PNG took 2.9 s
and ~565 MB, with no token, and six such renders ran at once)."""

from __future__ import annotations

import asyncio
import io
import threading
import time
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpx
import pytest
from PIL import Image

from imgtui.emulator import BackgroundEmulator, delivery
from imgtui.emulator.variants import (
    PixelBudget,
    RenderCache,
    TooLargeOutput,
    VariantSpec,
    output_size,
    parse_flexible,
    render,
)
from imgtui.service import Images
from tests.rest_harness import ACCOUNT_ID, FAST_RETRIES

from .conftest import TOKEN, make_jpeg, make_png
from .test_variant_ceiling import peak_rss_growth

MiB = 1024 * 1024


@pytest.fixture
async def rest(server: BackgroundEmulator) -> AsyncIterator[Images]:
    images = Images.cloudflare(ACCOUNT_ID, TOKEN, base_url=server.api_url, **FAST_RETRIES)
    yield images
    await images.aclose()


def _variant(image_url: str, variant: str) -> str:
    return image_url.rsplit("/", 1)[0] + "/" + variant


def _size(response: httpx.Response) -> tuple[int, int]:
    with Image.open(io.BytesIO(response.content)) as image:
        return image.size


@pytest.mark.parametrize(
    ("source", "variant"),
    [
        ((4, 4), "w=12000,h=12000,fit=squeeze"),
        ((4, 4), "w=12000,h=12000,fit=pad"),
        ((4, 4), "w=12000,h=12000,fit=cover"),
        ((4, 4), "w=11000,h=11000,fit=contain"),
        ((4, 4), "w=11000,h=11000,format=json,fit=squeeze"),
        # One side given, the other from the aspect ratio: 12000 x 3,000,000 and more.
        ((1, 250), "w=12000,fit=cover"),
        ((1, 250), "w=12000,fit=squeeze"),
        ((1, 250), "w=12000,fit=contain"),
        ((1, 250), "w=1200,dpr=10,fit=pad"),
    ],
)
async def test_a_result_over_the_limits_is_refused_fast(
    rest: Images, web: httpx.AsyncClient, source: tuple[int, int], variant: str
) -> None:
    image = await rest.hosted.upload(make_png(*source))
    started = time.perf_counter()
    with peak_rss_growth() as growth:
        response = await web.get(_variant(image.variants[0], variant))
    assert response.status_code == 400, (response.status_code, response.headers)
    assert "Invalid variant: the result would be" in response.text
    assert time.perf_counter() - started < 1.0
    assert growth[0] < 40 * MiB, f"grew {growth[0] / MiB:.0f} MiB"


async def test_the_largest_allowed_result_is_still_served(rest: Images, web: httpx.AsyncClient) -> None:
    image = await rest.hosted.upload(make_png(4, 4))
    response = await web.get(_variant(image.variants[0], "w=10000,h=250,fit=squeeze"))
    assert response.status_code == 200 and _size(response) == (10000, 250)
    info = await web.get(_variant(image.variants[0], "w=10000,h=10000,fit=squeeze,format=json"))
    assert info.status_code == 200 and (info.json()["width"], info.json()["height"]) == (10000, 10000)


@pytest.mark.parametrize(
    ("options", "size"),
    [
        ("w=1000,h=100,fit=crop", (640, 100)),  # was cover: 1000x100, the width enlarged
        ("w=100,h=1000,fit=crop", (100, 480)),
        ("w=320,h=100,fit=crop", (320, 100)),  # covering only shrinks: cover
        ("w=2000,h=2000,fit=crop", (640, 480)),  # smaller than the box: untouched
        ("w=1000,h=100,fit=scale-down", (133, 100)),
        ("w=1000,h=100,fit=cover", (1000, 100)),  # cover may enlarge
    ],
)
async def test_crop_never_enlarges(
    rest: Images, web: httpx.AsyncClient, options: str, size: tuple[int, int]
) -> None:
    image = await rest.hosted.upload(make_jpeg(640, 480))
    response = await web.get(_variant(image.variants[0], options))
    assert response.status_code == 200, response.text
    assert _size(response) == size
    info = await web.get(_variant(image.variants[0], options + ",format=json"))
    assert (info.json()["width"], info.json()["height"]) == size  # the same sizes, undecoded


@pytest.mark.parametrize("fit", ["scale-down", "contain", "cover", "crop", "pad", "squeeze"])
@pytest.mark.parametrize("box", ["w=37", "h=41", "w=300,h=20", "w=20,h=300", "w=999,h=999"])
@pytest.mark.parametrize("source", [(64, 48), (48, 64), (7, 300)])
def test_output_size_is_what_render_makes(fit: str, box: str, source: tuple[int, int]) -> None:
    spec = parse_flexible(f"{box},fit={fit},format=png")
    rendered = render(make_png(*source), spec)
    assert rendered is not None
    with Image.open(io.BytesIO(rendered[0])) as image:
        assert image.size == output_size(spec, source)


def test_render_refuses_the_result_before_decoding() -> None:
    with peak_rss_growth() as growth, pytest.raises(TooLargeOutput):
        render(make_png(4, 4), VariantSpec(width=12000, height=12000, fit="squeeze", flexible=True))
    assert growth[0] < 20 * MiB


class _Watched(PixelBudget):
    """A budget that records the most pixels it ever let in at once."""

    def __init__(self, budget: int) -> None:
        super().__init__(budget)
        self.held = self.most = 0
        self._lock = threading.Lock()

    @contextmanager
    def hold(self, pixels: int) -> Iterator[None]:
        with super().hold(pixels):
            with self._lock:
                self.held += min(pixels, self.budget)
                self.most = max(self.most, self.held)
            try:
                time.sleep(0.01)  # long enough for the others to try
                yield
            finally:
                with self._lock:
                    self.held -= min(pixels, self.budget)


def test_renders_share_one_pixel_budget() -> None:
    # Each render costs 16 source + 1000x1000 result pixels: two fit in the budget at once.
    budget = _Watched(2_100_000)
    spec = VariantSpec(width=1000, height=1000, fit="squeeze", format="PNG", flexible=True)
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda _: render(make_png(4, 4), spec, budget), range(12)))
    assert all(result is not None for result in results)
    assert 1_000_016 <= budget.most <= 2_100_000


def test_a_render_larger_than_the_budget_runs_alone() -> None:
    budget = _Watched(500_000)
    spec = VariantSpec(width=1000, height=1000, fit="squeeze", format="PNG", flexible=True)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: render(make_png(4, 4), spec, budget), range(4)))
    assert all(result is not None for result in results)
    assert budget.most == 500_000  # one at a time, never two


async def test_renders_run_at_most_slots_at_once(
    rest: Images, web: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # More requests than slots, each a distinct variant (no cache): at most RENDER_SLOTS
    # renders at once (the executor alone allowed ~6), and every request is answered.
    running, most, lock = [0], [0], threading.Lock()

    def counted(data: bytes, spec: VariantSpec, budget: PixelBudget) -> tuple[bytes, str] | None:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            time.sleep(0.05)  # long enough for the others to pile up
            return render(data, spec, budget)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(delivery, "render", counted)
    image = await rest.hosted.upload(make_png(4, 4))
    responses = await asyncio.gather(
        *(web.get(_variant(image.variants[0], f"w={200 + n},h=200,fit=squeeze")) for n in range(10))
    )
    assert [r.status_code for r in responses] == [200] * 10
    assert sorted(_size(r)[0] for r in responses) == [200 + n for n in range(10)]
    assert 1 < most[0] <= delivery.RENDER_SLOTS


@pytest.mark.parametrize("variant", ["w=1e309", "h=-1e309", "q=inf", "w=9" + "9" * 400, "w=nan", "dpr=nan"])
async def test_absurd_numbers_are_a_bad_variant_not_a_500(
    rest: Images, web: httpx.AsyncClient, variant: str
) -> None:
    # int(float("1e309")) raises OverflowError, which escaped as an internal error.
    image = await rest.hosted.upload(make_png(4, 4))
    response = await web.get(_variant(image.variants[0], variant))
    assert response.status_code == 400 and "Invalid variant" in response.text, response.text


def test_the_render_cache_counts_what_its_entries_really_cost() -> None:
    # Distinct flexible variants of a tiny image are cheap to ask for and render to ~70
    # bytes each: counted by their bodies alone, 1 MiB of budget held ~9 MiB of entries.
    cache = RenderCache(max_bytes=1 * MiB)
    tracemalloc.start()
    try:
        for n in range(20_000):
            variant = f"w={1 + n % 12000},h={1 + n // 12000},fit=squeeze"
            key = (
                "b6c3e7fc-ce71-4f1a-91c7-a0c6d050f066",
                1_700_000_000_000,
                variant,
                parse_flexible(variant),
            )
            cache.put(key, (bytes(70), "image/png"))
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert held < 1.5 * MiB, f"{held / MiB:.1f} MiB held under a 1 MiB budget"
