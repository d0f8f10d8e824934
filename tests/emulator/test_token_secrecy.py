"""The API token never shows: not in reprs, strs, errors, tracebacks, logs or event hooks."""

from __future__ import annotations

import logging
import pickle
import traceback

import httpx
import pytest

from imgtui.backends.cloudflare import CloudflareBackend
from imgtui.backends.cloudflare.auth import BearerToken
from imgtui.emulator import BackgroundEmulator
from imgtui.service import Images, ImagesError
from tests.rest_harness import ACCOUNT_ID, FAST_RETRIES

from .conftest import TOKEN, make_png

SECRET = "sEcReT-tOkEn-1234567890"


def _never_shows(text: str) -> None:
    assert SECRET not in text and TOKEN not in text


def test_reprs_and_strs_hide_the_token() -> None:
    images = Images.cloudflare(ACCOUNT_ID, SECRET)
    for thing in (images, images.backend, images.backend._auth, images.hosted):
        _never_shows(repr(thing))
        _never_shows(str(thing))
    assert images.label == "Cloudflare account 01234567…"
    assert "api.cloudflare.com" not in images.label
    local = Images.cloudflare(ACCOUNT_ID, SECRET, base_url="http://127.0.0.1:9999/client/v4")
    assert local.label == "Cloudflare account 01234567… at 127.0.0.1:9999"


def test_the_token_cannot_be_pickled() -> None:
    with pytest.raises(TypeError):
        pickle.dumps(BearerToken(SECRET))


@pytest.mark.parametrize("bad", [f"{SECRET}\n", f"{SECRET} x", f"{SECRET}é", ""])
def test_a_malformed_token_is_refused_without_quoting_it(bad: str) -> None:
    with pytest.raises(ImagesError) as caught:
        Images.cloudflare(ACCOUNT_ID, bad)
    assert caught.value.code == 10000
    _never_shows(str(caught.value) + repr(caught.value))


def test_missing_credentials_name_the_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLOUDFLARE_ACCOUNT_ID", raising=False)
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN", raising=False)
    with pytest.raises(ImagesError) as caught:
        Images.cloudflare()
    assert caught.value.code == 10000
    assert "CLOUDFLARE_ACCOUNT_ID" in caught.value.message and "CLOUDFLARE_API_TOKEN" in caught.value.message
    with pytest.raises(ImagesError) as caught:
        Images.cloudflare(ACCOUNT_ID)
    assert (
        "CLOUDFLARE_API_TOKEN" in caught.value.message and "CLOUDFLARE_ACCOUNT_ID" not in caught.value.message
    )
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", ACCOUNT_ID)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", SECRET)
    images = Images.cloudflare()
    assert isinstance(images.backend, CloudflareBackend)
    _never_shows(repr(images))


async def test_logs_event_hooks_errors_and_tracebacks_never_show_it(
    server: BackgroundEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[str] = []

    async def log_request(request: httpx.Request) -> None:
        seen.append(f"{request!r} {request.headers!r} {request.url}")

    async def log_response(response: httpx.Response) -> None:
        seen.append(f"{response!r} {response.request.headers!r} {response.headers!r}")

    hooks = {"request": [log_request], "response": [log_response]}
    caplog.set_level(logging.DEBUG)
    errors: list[ImagesError] = []
    async with Images.cloudflare(
        ACCOUNT_ID, TOKEN, base_url=server.api_url, event_hooks=hooks, **FAST_RETRIES
    ) as images:
        image = await images.hosted.upload(make_png(), id="t")
        await images.hosted.image("t").details()
        await images.hosted.image("t").signed_url("public", 60)
        server.faults.script("drop-before", "drop-after")
        with pytest.raises(ImagesError) as caught:
            await images.hosted.upload(make_png())
        errors.append(caught.value)
        with pytest.raises(ImagesError) as caught:
            await images.hosted.upload(make_png(), id="t", metadata={"another": "upload"})
        errors.append(caught.value)
    assert image.id == "t"
    # the wrong token, refused by the server
    async with Images.cloudflare(ACCOUNT_ID, SECRET, base_url=server.api_url) as images:
        with pytest.raises(ImagesError) as caught:
            await images.hosted.list()
        assert caught.value.code == 10000
        errors.append(caught.value)

    assert len(seen) > 5
    for text in seen:
        _never_shows(text)
    assert "httpx" in caplog.text or "httpcore" in caplog.text
    _never_shows(caplog.text)
    for error in errors:
        _never_shows(str(error) + repr(error))
        _never_shows("".join(traceback.format_exception(error)))
