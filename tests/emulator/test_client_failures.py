"""What the REST client says when the endpoint fails the user: a refused token, a server
that is not there or never answers, an answer that is not the Images API."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from imgtui.backends.cloudflare import CloudflareBackend
from imgtui.emulator import BackgroundEmulator
from imgtui.service import Images, ImagesError
from tests.rest_harness import ACCOUNT_ID, FAST_RETRIES

from .conftest import make_png

WRONG = "wrong-token-Zq81-never-shown"


def _check_auth_error(error: ImagesError, status: int) -> None:
    assert error.code == 10000
    assert f"HTTP {status}" in error.message and "CLOUDFLARE_API_TOKEN" in error.message
    assert WRONG not in str(error) + repr(error)


async def test_a_wrong_token_is_10000_with_what_to_check(server: BackgroundEmulator) -> None:
    async with Images.cloudflare(ACCOUNT_ID, WRONG, base_url=server.api_url, **FAST_RETRIES) as images:
        for call in (
            images.hosted.list(),
            images.hosted.image("x").details(),
            images.hosted.upload(make_png()),
            images.hosted.image("x").delete(),
            images.hosted.image("x").signed_url(),
        ):
            with pytest.raises(ImagesError) as caught:
                await call
            _check_auth_error(caught.value, 401)
        with pytest.raises(ImagesError) as caught:
            await images.hosted.image("x").bytes()
        _check_auth_error(caught.value, 401)


@pytest.mark.parametrize(
    "answer",
    [
        # what api.cloudflare.com answers for a valid token without Images permission
        httpx.Response(
            403, json={"success": False, "errors": [{"code": 10000, "message": "Authentication error"}]}
        ),
        httpx.Response(
            403, json={"success": False, "errors": [{"code": 9109, "message": "Invalid access token"}]}
        ),
        # a proxy in front of the API asking for credentials
        httpx.Response(401, html="<html><body>401 Authorization Required</body></html>"),
        httpx.Response(401, json={"success": False, "errors": []}),
    ],
    ids=["403-10000", "403-9109", "401-html", "401-no-code"],
)
async def test_cloudflare_and_proxy_refusals_are_10000(answer: httpx.Response) -> None:
    backend = CloudflareBackend(ACCOUNT_ID, WRONG, transport=httpx.MockTransport(lambda request: answer))
    try:
        with pytest.raises(ImagesError) as caught:
            await backend.details("x")
        _check_auth_error(caught.value, answer.status_code)
    finally:
        await backend.aclose()


async def test_a_permission_error_that_is_not_about_the_token_keeps_its_code() -> None:
    answer = httpx.Response(
        403, json={"success": False, "errors": [{"code": 5403, "message": "Not allowed"}]}
    )
    backend = CloudflareBackend(ACCOUNT_ID, WRONG, transport=httpx.MockTransport(lambda request: answer))
    try:
        with pytest.raises(ImagesError) as caught:
            await backend.details("x")
        assert (caught.value.code, caught.value.message) == (5403, "Not allowed")
    finally:
        await backend.aclose()


async def test_an_html_answer_names_what_came_back() -> None:
    page = httpx.Response(200, html="<html><title>Welcome to nginx</title></html>")
    backend = CloudflareBackend(ACCOUNT_ID, WRONG, transport=httpx.MockTransport(lambda request: page))
    try:
        with pytest.raises(ImagesError) as caught:
            await backend.list(limit=5, cursor=None, sort_order="asc", creator=None)
        assert caught.value.code == 9000
        assert "text/html" in caught.value.message and "/client/v4" in caught.value.message
    finally:
        await backend.aclose()


async def test_an_undecodable_body_is_a_network_error_not_a_crash() -> None:
    def garbled(request: httpx.Request) -> httpx.Response:
        # a proxy that claims gzip and sends something else
        return httpx.Response(200, headers={"Content-Encoding": "gzip"}, stream=httpx.ByteStream(b"not gzip"))

    backend = CloudflareBackend(ACCOUNT_ID, WRONG, transport=httpx.MockTransport(garbled))
    try:
        with pytest.raises(ImagesError) as caught:
            await backend.details("x")
        assert caught.value.code == 9000 and "could not be read" in caught.value.message
        with pytest.raises(ImagesError) as caught:
            stream = await backend.bytes("x")
            assert stream is not None
            async for _chunk in stream:
                pass
        assert caught.value.code == 9000
    finally:
        await backend.aclose()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


async def test_a_silent_server_times_out_with_its_address(silent_port: int) -> None:
    url = f"http://127.0.0.1:{silent_port}/client/v4"
    async with Images.cloudflare(
        ACCOUNT_ID, WRONG, base_url=url, read_timeout=0.2, max_retries=1, **FAST_RETRIES
    ) as images:
        with pytest.raises(ImagesError) as caught:
            await images.hosted.list()
    assert caught.value.code == 9000
    assert f"127.0.0.1:{silent_port} did not answer in time" in caught.value.message
    assert "tried 2 times" in caught.value.message


async def test_a_refused_connection_names_host_and_port() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]  # free once closed: nothing listens there
    url = f"http://127.0.0.1:{port}/client/v4"
    async with Images.cloudflare(ACCOUNT_ID, WRONG, base_url=url, max_retries=0) as images:
        with pytest.raises(ImagesError) as caught:
            await images.hosted.image("x").details()
    assert caught.value.code == 9000
    assert f"cannot connect to 127.0.0.1:{port}" in caught.value.message
    assert caught.value.message.endswith("(tried once)")
