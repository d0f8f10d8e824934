"""Fixtures of the TUI tests: a real local library in a temp dir, and no real config dir."""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

import pytest
from PIL import Image

from imgtui.service import ImageMetadata, Images


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The app reads and writes its config here, never in the user's real config dir."""
    config_dir = tmp_path / "config"
    monkeypatch.setenv("IMGTUI_CONFIG_DIR", str(config_dir))
    return config_dir


@pytest.fixture(autouse=True)
def _utc() -> Iterator[None]:
    """Local-time columns are rendered in UTC, so text and snapshots do not depend on the host."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if saved is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = saved
    time.tzset()


@cache
def png_bytes(width: int = 4, height: int = 3, colour: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "PNG")
    return buffer.getvalue()


CREATORS = ("alice", "bob", "carol")


async def fill(
    images: Images,
    count: int,
    *,
    prefix: str = "img",
    creator: Callable[[int], str | None] = lambda i: CREATORS[i % len(CREATORS)],
) -> list[ImageMetadata]:
    """Upload `count` tiny PNGs with ids `{prefix}-0000`... through the public API."""
    return [
        await images.hosted.upload(
            png_bytes(),
            id=f"{prefix}-{index:04d}",
            filename=f"file-{index:04d}.png",
            creator=creator(index),
            metadata={"n": index},
        )
        for index in range(count)
    ]


@pytest.fixture
def library_path(tmp_path: Path) -> Path:
    return tmp_path / "library"


async def wait_until(pilot, predicate: Callable[[], bool], within: float = 10.0) -> None:
    """Let the app run until `predicate()` holds (fails the test after `within` seconds)."""
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the app")
        await pilot.pause(0.02)


@pytest.fixture(name="fill")
def _fill_fixture():
    return fill


@pytest.fixture(name="wait_until")
def _wait_until_fixture():
    return wait_until


async def wheel_down(pilot, selector: str, times: int = 1) -> None:
    """Turn the mouse wheel over `selector` (the path a real terminal's wheel event takes)."""
    from textual import events

    for _ in range(times):
        await pilot._post_mouse_events([events.MouseScrollDown], widget=selector, offset=(5, 5))


@pytest.fixture(name="pilot_wheel")
def _wheel_fixture():
    return wheel_down


@pytest.fixture(name="png")
def _png_fixture() -> bytes:
    return png_bytes()
