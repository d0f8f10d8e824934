"""The `images` fixture: every conformance test runs against the local library and against
the REST backend talking to `imgtui serve` over loopback (when that harness exists)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from imgtui.service import Images


@pytest.fixture(params=["local", "rest"])
async def images(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[Images]:
    library = tmp_path / "lib"
    if request.param == "local":
        service = Images.local(library)
        try:
            yield service
        finally:
            await service.aclose()
        return
    try:
        from tests.rest_harness import rest_images
    except ImportError as exc:
        pytest.skip(f"REST harness unavailable: {exc}")
    async with rest_images(library) as service:
        yield service


@pytest.fixture
async def local_images(tmp_path) -> AsyncIterator[Images]:
    """For what only a local library has (reopen, processes, internals)."""
    service = Images.local(tmp_path / "lib")
    try:
        yield service
    finally:
        await service.aclose()
