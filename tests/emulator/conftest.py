"""Fixtures: a running `imgtui serve` on loopback, raw httpx clients, small images."""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import io
import pathlib
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from PIL import Image

from imgtui.emulator import BackgroundEmulator
from imgtui.service import Images
from tests.rest_harness import ACCOUNT_ID, start_emulator

TOKEN = "test-token"


@functools.cache
def make_png(width: int = 64, height: int = 48, color: tuple[int, int, int] = (200, 30, 90)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


@functools.cache
def make_jpeg(width: int = 640, height: int = 480) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 120, 200)).save(out, "JPEG")
    return out.getvalue()


SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="400" height="400"><rect width="400" height="400"/></svg>'
)


def add_classic_variants(library: pathlib.Path) -> None:
    """Give a library what every library served before variants were the account's: a
    `thumbnail` (320x320 scale-down) and flexible variants enabled."""

    async def prepare() -> None:
        async with Images.local(library) as images:
            await images.account.variants.create(
                "thumbnail", {"fit": "scale-down", "width": 320, "height": 320, "metadata": "none"}
            )
            await images.account.settings.update(flexible_variants=True)

    # On its own thread: a sync fixture may run while the test's event loop exists.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, prepare()).result()


@pytest.fixture
def server(tmp_path) -> Iterator[BackgroundEmulator]:
    """The emulator with API token TOKEN and a fault injector that stays quiet unless scripted,
    serving a library with `thumbnail` and flexible variants (add_classic_variants)."""
    add_classic_variants(tmp_path / "lib")
    emulator = start_emulator(tmp_path / "lib", api_token=TOKEN, faults="rate=0,retry_after=0")
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
async def api(server: BackgroundEmulator) -> AsyncIterator[httpx.AsyncClient]:
    """Raw HTTP to `.../accounts/<id>/images`, authenticated."""
    async with httpx.AsyncClient(
        base_url=f"{server.api_url}/accounts/{ACCOUNT_ID}/images",
        headers={"Authorization": f"Bearer {TOKEN}"},
    ) as client:
        yield client


@pytest.fixture
async def web(server: BackgroundEmulator) -> AsyncIterator[httpx.AsyncClient]:
    """Unauthenticated HTTP to the server root (delivery URLs)."""
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        yield client


def assert_error(response: httpx.Response, status: int, code: int) -> str:
    """The envelope of a failure; returns the error message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False and body["result"] is None and body["messages"] == []
    assert body["errors"][0]["code"] == code
    return body["errors"][0]["message"]


def assert_ok(response: httpx.Response, status: int = 200) -> object:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is True and body["errors"] == [] and body["messages"] == []
    return body["result"]
