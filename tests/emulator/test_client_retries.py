"""The REST client's retry rules, against the emulator with scripted faults.

Each test stages the exact fate of the next requests (`server.faults.script(...)`) and
counts the requests that reached the server.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest

from imgtui.backends.cloudflare import CloudflareBackend
from imgtui.emulator import BackgroundEmulator
from imgtui.service import Images, ImagesError
from imgtui.service.backend import UploadRequest
from tests.rest_harness import ACCOUNT_ID, FAST_RETRIES, start_emulator

from .conftest import TOKEN, make_png


@pytest.fixture
async def images(server: BackgroundEmulator) -> AsyncIterator[Images]:
    service = Images.cloudflare(ACCOUNT_ID, TOKEN, base_url=server.api_url, **FAST_RETRIES)
    yield service
    await service.aclose()


def _requests(server: BackgroundEmulator) -> int:
    assert server.faults is not None
    return server.faults.requests


async def _count(images: Images) -> int:
    return len((await images.hosted.list(limit=1000)).images)


@pytest.mark.parametrize("fault", ["500", "503", "drop-before", "drop-after", "429", "latency"])
async def test_reads_are_retried(server: BackgroundEmulator, images: Images, fault: str) -> None:
    await images.hosted.upload(make_png(), id="x")
    server.faults.script(fault, fault)
    before = _requests(server)
    assert (await images.hosted.image("x").details()).id == "x"
    assert (await images.hosted.image("x").read()) == make_png()
    assert _requests(server) - before == (2 if fault == "latency" else 4)


async def test_a_custom_id_upload_whose_answer_was_lost_is_not_duplicated(
    server: BackgroundEmulator, images: Images
) -> None:
    server.faults.script("drop-after")
    before = _requests(server)
    image = await images.hosted.upload(make_png(), id="once", metadata={"v": 1})
    # first attempt stored it; the repeat met 5409; the client recognised its own upload
    assert image.id == "once" and image.meta == {"v": 1}
    assert _requests(server) - before == 4  # upload, upload (5409), details, blob
    assert await _count(images) == 1


async def test_a_custom_id_taken_by_someone_else_stays_5409(
    server: BackgroundEmulator, images: Images
) -> None:
    await images.hosted.upload(make_png(), id="taken", metadata={"owner": "first"})
    server.faults.script("503")  # the first attempt looks ambiguous to the client
    with pytest.raises(ImagesError) as caught:
        await images.hosted.upload(make_png(), id="taken", metadata={"owner": "second"})
    assert caught.value.code == 5409
    assert (await images.hosted.image("taken").details()).meta == {"owner": "first"}


@pytest.mark.parametrize("fault", ["drop-after", "drop-before", "500", "503"])
async def test_an_upload_without_id_is_never_repeated_blindly(
    server: BackgroundEmulator, images: Images, fault: str
) -> None:
    server.faults.script(fault)
    before = _requests(server)
    with pytest.raises(ImagesError) as caught:
        await images.hosted.upload(make_png())
    assert _requests(server) - before == 1
    # an error the user can act on: it says the outcome is unknown and what to do
    assert "may or may not have been stored" in caught.value.message
    assert "custom id" in caught.value.message
    assert await _count(images) == (1 if fault == "drop-after" else 0)


async def test_an_upload_without_id_is_repeated_after_429(server: BackgroundEmulator, images: Images) -> None:
    server.faults.script("429", "429")
    before = _requests(server)
    await images.hosted.upload(make_png())
    assert _requests(server) - before == 3
    assert await _count(images) == 1


@pytest.mark.parametrize("setup", ["duplicate", "custom-id-signed", "not-an-image"])
async def test_client_errors_are_not_retried(server: BackgroundEmulator, images: Images, setup: str) -> None:
    await images.hosted.upload(make_png(), id="c")
    backend = images.backend
    before = _requests(server)
    with pytest.raises(ImagesError) as caught:
        if setup == "duplicate":
            await images.hosted.upload(make_png(), id="c")
        elif setup == "custom-id-signed":
            await images.hosted.image("c").update(require_signed_urls=True)
        else:  # bypass the facade's sniffing so the server is the one refusing
            await backend.upload(UploadRequest(b"garbage!", "image/png", "g", "g.png", False, None, None))
    assert caught.value.code == {"duplicate": 5409, "custom-id-signed": 5410, "not-an-image": 5455}[setup]
    assert _requests(server) - before == 1


async def test_delete_whose_answer_was_lost_reports_deleted(
    server: BackgroundEmulator, images: Images
) -> None:
    await images.hosted.upload(make_png(), id="d")
    server.faults.script("drop-after")
    assert await images.hosted.image("d").delete() is True
    assert await images.hosted.image("d").details() is None
    assert await images.hosted.image("d").delete() is False


async def test_update_whose_answer_was_lost_is_repeated(server: BackgroundEmulator, images: Images) -> None:
    await images.hosted.upload(make_png(), id="u")
    server.faults.script("drop-after")
    updated = await images.hosted.image("u").update(metadata={"n": 2})
    assert updated.meta == {"n": 2}


async def test_retries_give_up_with_a_network_error(server: BackgroundEmulator) -> None:
    async with Images.cloudflare(
        ACCOUNT_ID, TOKEN, base_url=server.api_url, max_retries=2, **FAST_RETRIES
    ) as images:
        server.faults.script("drop-before", "drop-before", "drop-before")
        before = _requests(server)
        with pytest.raises(ImagesError) as caught:
            await images.hosted.image("x").details()
        assert caught.value.code == 9000 and "tried 3 times" in caught.value.message
        assert _requests(server) - before == 3
        server.faults.script("503", "503", "503")
        with pytest.raises(ImagesError) as caught:
            await images.hosted.list()
        assert caught.value.code == 9000 and "not JSON" in caught.value.message


async def test_retry_after_is_honoured_and_capped(tmp_path) -> None:
    server = start_emulator(tmp_path / "lib", api_token=TOKEN, faults="rate=0,retry_after=1")
    try:
        async with Images.cloudflare(
            ACCOUNT_ID, TOKEN, base_url=server.api_url, backoff_base=0.001, max_retry_after=5
        ) as images:
            server.faults.script("429")
            started = time.perf_counter()
            await images.hosted.list()
            assert 0.95 <= time.perf_counter() - started < 3
        async with Images.cloudflare(
            ACCOUNT_ID, TOKEN, base_url=server.api_url, backoff_base=0.001, max_retry_after=0.05
        ) as images:
            server.faults.script("429")
            started = time.perf_counter()
            await images.hosted.list()
            assert time.perf_counter() - started < 0.5
    finally:
        server.stop()


async def test_read_timeouts_are_retried(server: BackgroundEmulator) -> None:
    # The fixture's latency fault lasts 0.1 s: longer than this client waits.
    async with Images.cloudflare(
        ACCOUNT_ID, TOKEN, base_url=server.api_url, read_timeout=0.03, **FAST_RETRIES
    ) as images:
        server.faults.script("latency")
        before = _requests(server)
        assert (await images.hosted.list()).images == []
        # At least the timed-out request and its retry (a loaded CI core can make the retry
        # itself miss 30 ms once more: that is a retry too, not a failure).
        assert _requests(server) - before >= 2


async def test_a_server_that_is_not_there(tmp_path) -> None:
    server = start_emulator(tmp_path / "lib")
    url = server.api_url
    server.stop()
    async with Images.cloudflare(ACCOUNT_ID, TOKEN, base_url=url, max_retries=1, **FAST_RETRIES) as images:
        with pytest.raises(ImagesError) as caught:
            await images.hosted.list()
    assert caught.value.code == 9000 and "cannot connect" in caught.value.message


async def test_a_url_that_is_not_the_images_api(server: BackgroundEmulator) -> None:
    # An HTML/plain 404 must not read as "image not found".
    async with Images.cloudflare(ACCOUNT_ID, TOKEN, base_url=server.base_url + "/elsewhere") as images:
        with pytest.raises(ImagesError) as caught:
            await images.hosted.image("x").details()
    assert caught.value.code == 9000 and "not JSON" in caught.value.message


async def test_malformed_answers_become_network_errors() -> None:
    answers = {
        "/v1/a": httpx.Response(200, json={"success": True, "result": {"no": "id"}}),
        "/v1/b": httpx.Response(200, json=[1, 2]),
        "/v1/c": httpx.Response(200, json={"success": True, "result": {"id": "c", "uploaded": "yesterday"}}),
        "/v1/d": httpx.Response(400, json={"success": False, "errors": []}),
        "/v1/e": httpx.Response(200, json={"success": True, "result": {"id": "e", "metadata": {"k": 1}}}),
    }

    def answer(request: httpx.Request) -> httpx.Response:
        return answers[request.url.path.rsplit("/images", 1)[1]]

    backend = CloudflareBackend(ACCOUNT_ID, TOKEN, transport=httpx.MockTransport(answer))
    try:
        for image_id in "abcd":
            with pytest.raises(ImagesError) as caught:
                await backend.details(image_id)
            assert caught.value.code == 9000
        tolerant = await backend.details("e")  # optional fields missing, `metadata` for `meta`
        assert tolerant is not None and tolerant.meta == {"k": 1} and tolerant.variants == []
    finally:
        await backend.aclose()
