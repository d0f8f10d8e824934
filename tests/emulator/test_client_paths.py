"""Ids that are awkward in URLs survive the trip through the REST client and the emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from imgtui.emulator import BackgroundEmulator
from imgtui.service import Images
from tests.rest_harness import ACCOUNT_ID, FAST_RETRIES

from .conftest import TOKEN, make_png

AWKWARD_IDS = ["a/b/c", "x/blob", "100%", "sp ace", "ümlaut/日本", "a+b&c=d", "semi;colon", "a/%2F/b", "v1"]


@pytest.fixture
async def images(server: BackgroundEmulator) -> AsyncIterator[Images]:
    service = Images.cloudflare(ACCOUNT_ID, TOKEN, base_url=server.api_url, **FAST_RETRIES)
    yield service
    await service.aclose()


@pytest.mark.parametrize("image_id", AWKWARD_IDS)
async def test_awkward_ids_round_trip(images: Images, image_id: str) -> None:
    uploaded = await images.hosted.upload(make_png(), id=image_id, metadata={"id": image_id})
    handle = images.hosted.image(image_id)
    assert uploaded.id == image_id and (await handle.details()).meta == {"id": image_id}
    assert await handle.read() == make_png()
    assert (await handle.update(creator="c")).creator == "c"
    assert await handle.delete() is True and await handle.details() is None


@pytest.mark.parametrize("image_id", [".", "..", "a/..", "x/blob", "nope"])
async def test_missing_awkward_ids_are_simply_missing(images: Images, image_id: str) -> None:
    handle = images.hosted.image(image_id)
    assert await handle.details() is None
    assert await handle.bytes() is None
    assert await handle.delete() is False
