"""`file_info` on both backends (a typed answer, no side door), and the local library's
seams: a pinned clock, id factory and secret factory make a library reproducible."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path

from imgtui.backends.local import LocalBackend
from imgtui.service import Images
from imgtui.service.models import FileInfo

from .imagedata import SVG, crafted_png


async def test_file_info_on_both_backends(images: Images) -> None:
    """Local knows the stored file; REST (Cloudflare's API) answers the record and None."""
    assert await images.hosted.image("missing").file_info() is None
    assert await images.hosted.image("/bad/").file_info() is None
    png_meta = await images.hosted.upload(crafted_png(640, 480), id="p")
    await images.hosted.upload(SVG, id="s")
    answer = await images.hosted.image("p").file_info()
    assert answer is not None
    record, info = answer
    assert record == png_meta
    if isinstance(images.backend, LocalBackend):
        assert info == FileInfo("image/png", len(crafted_png(640, 480)), 640, 480)
        svg = await images.hosted.image("s").file_info()
        assert svg is not None and svg[1] == FileInfo("image/svg+xml", len(SVG), None, None)
    else:
        assert info is None


async def _fill(root: Path) -> list[tuple[str, datetime]]:
    clock = itertools.count(1_746_000_000_000, 60_000)
    ids = (f"00000000-0000-4000-8000-{n:012d}" for n in itertools.count())
    images = Images.local(
        root, clock=lambda: next(clock), new_id=lambda: next(ids), new_secret=lambda n: "k" * n
    )
    async with images:
        made = [await images.hosted.upload(crafted_png(8 + n, 8)) for n in range(3)]
        backend = images.backend
        assert isinstance(backend, LocalBackend)
        assert await backend.account_hash() == "k" * 16
        assert await backend.signing_key() == "k" * 32
    return [(meta.id, meta.uploaded) for meta in made]


async def test_seams_make_a_library_deterministic(tmp_path: Path) -> None:
    first = await _fill(tmp_path / "one")
    assert first == await _fill(tmp_path / "two")
    assert first[0] == ("00000000-0000-4000-8000-000000000000", datetime(2025, 4, 30, 8, 0, tzinfo=UTC))
    assert first[2][1] == datetime(2025, 4, 30, 8, 2, tzinfo=UTC)


async def test_the_seams_do_not_change_the_defaults(local_images: Images) -> None:
    meta = await local_images.hosted.upload(crafted_png(8, 8))
    assert len(meta.id) == 36 and meta.id.count("-") == 4
    assert abs((datetime.now(UTC) - meta.uploaded).total_seconds()) < 60
