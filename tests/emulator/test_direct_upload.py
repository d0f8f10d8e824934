"""Direct creator upload on both backends: a draft and a one-time URL that `imgtui serve`
accepts once, without the API token, until it expires."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from imgtui.emulator import BackgroundEmulator
from imgtui.service import Images, ImagesError
from imgtui.service.signing import CDN_PREFIX
from tests.rest_harness import ACCOUNT_ID, FAST_RETRIES

from .conftest import TOKEN, assert_error, assert_ok, make_png


@pytest.fixture(params=["rest", "local"])
async def images(request: pytest.FixtureRequest, server: BackgroundEmulator) -> AsyncIterator[Images]:
    if request.param == "rest":
        service = Images.cloudflare(ACCOUNT_ID, TOKEN, base_url=server.api_url, **FAST_RETRIES)
    else:  # the same library opened directly, its upload URLs served by the server
        service = Images.local(server.settings.library, delivery_base=server.base_url + CDN_PREFIX)
    yield service
    await service.aclose()


async def test_a_draft_until_its_one_upload(images: Images) -> None:
    created = await images.hosted.create_direct_upload(id="drafts/one", metadata={"k": "v"}, creator="ann")
    assert created.id == "drafts/one" and "/cdn-cgi/imageupload/" in created.upload_url
    draft = await images.hosted.image(created.id).details()
    assert draft is not None and draft.draft is True and draft.meta == {"k": "v"} and draft.creator == "ann"
    listed = (await images.hosted.list()).images
    assert [(image.id, image.draft) for image in listed] == [("drafts/one", True)]
    assert await images.hosted.image(created.id).read() is None  # no bytes yet
    async with httpx.AsyncClient() as browser:  # no token
        done = await browser.post(created.upload_url, files={"file": ("cat.png", make_png(), "image/png")})
        record = assert_ok(done)
        assert isinstance(record, dict) and record["id"] == "drafts/one" and "draft" not in record
        again = await browser.post(created.upload_url, files={"file": ("cat.png", make_png(), "image/png")})
        assert_error(again, 404, 5404)  # one upload per URL
    image = await images.hosted.image(created.id).details()
    assert image is not None and image.draft is False and image.filename == "cat.png"
    assert await images.hosted.image(created.id).read() == make_png()


async def test_direct_upload_rules(images: Images) -> None:
    now = datetime.now(UTC)
    cases = [
        {"id": "123e4567-e89b-12d3-a456-426614174000"},  # a custom id cannot be a UUID
        {"id": "x", "require_signed_urls": True},
        {"expiry": now + timedelta(seconds=60)},
        {"expiry": now + timedelta(hours=7)},
        {"metadata": {"k": "v" * 2000}},
    ]
    for options in cases:
        with pytest.raises(ImagesError) as info:
            await images.hosted.create_direct_upload(**options)  # type: ignore[arg-type]
        assert info.value.code in (5400, 5410), options
    generated = await images.hosted.create_direct_upload(expiry=now + timedelta(minutes=5))
    assert len(generated.id) == 36  # a generated id is a UUID


async def test_an_expired_or_unknown_upload_url_fails(server: BackgroundEmulator) -> None:
    async with Images.local(server.settings.library, delivery_base=server.base_url + CDN_PREFIX) as images:
        created = await images.hosted.create_direct_upload(id="late")
    # Age the draft past its expiry (the library keeps real time for expiry, like signed URLs).
    import sqlite3

    conn = sqlite3.connect(server.settings.library / "library.sqlite3")
    with conn:
        conn.execute("UPDATE images SET draft_expires_ms = 1 WHERE id = 'late'")
    conn.close()
    async with httpx.AsyncClient() as browser:
        late = await browser.post(created.upload_url, files={"file": ("a.png", make_png(), "image/png")})
        assert_error(late, 408, 5408)
        unknown = await browser.post(
            created.upload_url.rsplit("/", 1)[0] + "/nope", files={"file": ("a.png", make_png(), "image/png")}
        )
        assert_error(unknown, 404, 5404)
        not_an_image = await browser.post(
            created.upload_url, files={"file": ("a.txt", b"hello", "text/plain")}
        )
        assert not_an_image.status_code in (408, 415)
