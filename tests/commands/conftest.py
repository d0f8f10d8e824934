"""Fixtures: a seeded local library, reached directly or through `imgtui serve` on loopback,
and `run(...)`: `imgtui.commands.main` in-process with its exit code, stdout and stderr."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from imgtui.commands import main
from imgtui.service import Images
from tests.rest_harness import ACCOUNT_ID, start_emulator

TOKEN = "test-token"


def png(color: tuple[int, int, int] = (200, 30, 90), size: tuple[int, int] = (6, 4)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


async def seed(path: Path) -> list[str]:
    """Three images: two with custom ids, one with a generated (UUID) id."""
    async with Images.local(path) as images:
        a = await images.hosted.upload(
            png((1, 2, 3)), id="cats/tom", filename="tom.png", creator="alice", metadata={"tag": "Orange"}
        )
        b = await images.hosted.upload(png((4, 5, 6)), id="dogs/rex", filename="rex.png", creator="bob")
        c = await images.hosted.upload(
            png((7, 8, 9)), filename="private.png", require_signed_urls=True, metadata={"k": ["v1", 2]}
        )
    return [a.id, b.id, c.id]


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> object:
        return json.loads(self.out)


@dataclass
class Where:
    """A library the commands can reach: `args` select it; `path` is its directory."""

    kind: str
    path: Path
    args: list[str]
    ids: list[str]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    def call(*argv: str) -> Result:
        capsys.readouterr()
        code = main(list(argv))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return call


@pytest.fixture
def local_lib(tmp_path: Path) -> Where:
    path = tmp_path / "lib"
    ids = asyncio.run(seed(path))
    return Where("local", path, ["--library", str(path)], ids)


@pytest.fixture
def served_lib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Where]:
    path = tmp_path / "served"
    ids = asyncio.run(seed(path))
    server = start_emulator(path, api_token=TOKEN)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", TOKEN)
    try:
        yield Where("rest", path, ["--endpoint", server.api_url, "--account-id", ACCOUNT_ID], ids)
    finally:
        server.stop()


@pytest.fixture(params=["local", "rest"])
def lib(request: pytest.FixtureRequest) -> Where:
    """Each test that takes `lib` runs against a local library and against `imgtui serve`."""
    return request.getfixturevalue("local_lib" if request.param == "local" else "served_lib")


@pytest.fixture(autouse=True)
def _no_cloudflare_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CLOUDFLARE_ACCOUNT_ID", "CLOUDFLARE_API_TOKEN", "CLOUDFLARE_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
