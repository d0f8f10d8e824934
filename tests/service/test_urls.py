"""The one capped URL fetcher and the URL helpers both its callers use."""

from __future__ import annotations

import httpx
import pytest

from imgtui.service import ErrorCode, ImagesError
from imgtui.service.urls import (
    FetchCodes,
    fetch_capped,
    filename_from_disposition,
    filename_from_url,
    is_http_url,
)

CLIENT_CODES = FetchCodes(unreachable=ErrorCode.NETWORK, overloaded=ErrorCode.NETWORK)
SERVE_CODES = FetchCodes(unreachable=ErrorCode.BAD_REQUEST, overloaded=ErrorCode.BAD_REQUEST, only_200=True)


def _describe(failure: str, detail: str, error: object) -> str:
    return f"{failure}:{detail}"


def _client(handler) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://x.test/a/cat.png", "cat.png"),
        ("https://x.test/a/My%20Cat.png?size=2#f", "My Cat.png"),
        ("https://x.test/dir/", "dir"),
        ("https://x.test/", None),
        ("https://x.test", None),
        ("https://x.test/a%2Fb.png", "b.png"),  # decoded first: no '/' in a filename
        ("https://x.test/bad%0Aname.png", "badname.png"),
        ("https://x.test/" + "n" * 300, "n" * 255),
    ],
)
def test_filename_from_url(url: str, name: str | None) -> None:
    assert filename_from_url(url) == name


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ('attachment; filename="cat.png"', "cat.png"),
        ("inline; filename=cat.png", "cat.png"),
        ("attachment; filename=\"a.png\"; filename*=UTF-8''caf%C3%A9.png", "caf\u00e9.png"),
        ('attachment; filename="../../etc/passwd"', "passwd"),  # never a path
        ('attachment; filename="a\\"b.png"', 'a"b.png'),  # a quoted quote, not a folder
        ('attachment; filename="C:\\evil\\x.png"', "x.png"),
        ('attachment; filename="a\x1b]0;PWNED\x07.png"', "a]0;PWNED.png"),  # no control chars
        ('attachment; filename="b\x9b2Jc.png"', "b2Jc.png"),  # nor the 8-bit CSI
        ('attachment; filename=".."', None),
        ("attachment", None),
        ("attachment; filename*=x-unknown''abc.png", None),  # an unknown charset
        ("attachment; filename*=idna''xn--abc", None),  # a codec that cannot decode it
        ("attachment; filename*=utf-8''%E2%80%AEgnp.exe", None),  # a bidi override: fall back
        ("attachment; filename=\"b.png\"; filename*=x-unknown''abc.png", "b.png"),
        ('attachment; filename="' + "n" * 300 + '.png"', "n" * 255),
        ("attachment; filename=" + "x" * 5000, None),  # too long to parse at all
        ("", None),
        (None, None),
    ],
)
def test_filename_from_disposition(header: str | None, name: str | None) -> None:
    assert filename_from_disposition(header) == name


async def test_the_answer_s_file_name_is_kept() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, content=b"x", headers={"Content-Disposition": 'attachment; filename="d.png"'}
        )

    async with _client(answer) as client:
        fetched = await fetch_capped(
            client, "http://a.test/get?id=1", cap=10, codes=CLIENT_CODES, describe=_describe
        )
    assert fetched.filename == "d.png"


@pytest.mark.parametrize(
    ("text", "ok"),
    [("http://a.test/x", True), (" HTTPS://a.test ", True), ("ftp://a.test", False), ("http://", False)],
)
def test_is_http_url(text: str, ok: bool) -> None:
    assert is_http_url(text) is ok


async def test_fetches_under_the_cap_with_progress() -> None:
    seen: list[tuple[int, int | None]] = []
    async with _client(lambda request: httpx.Response(200, content=b"x" * 10)) as client:
        fetched = await fetch_capped(
            client, "http://a.test/i.png", cap=10, codes=CLIENT_CODES, describe=_describe,
            on_progress=lambda done, total: seen.append((done, total)),
        )  # fmt: skip
    assert fetched.data == b"x" * 10 and fetched.final_url == "http://a.test/i.png"
    assert seen[-1] == (10, 10)


@pytest.mark.parametrize(
    ("codes", "status", "code"),
    [
        (CLIENT_CODES, 503, ErrorCode.NETWORK),
        (CLIENT_CODES, 429, ErrorCode.NETWORK),
        (CLIENT_CODES, 404, ErrorCode.BAD_REQUEST),
        (SERVE_CODES, 503, ErrorCode.BAD_REQUEST),
        (SERVE_CODES, 204, ErrorCode.BAD_REQUEST),
    ],
)
async def test_status_failures_carry_the_callers_codes(codes: FetchCodes, status: int, code: int) -> None:
    async with _client(lambda request: httpx.Response(status)) as client:
        with pytest.raises(ImagesError) as info:
            await fetch_capped(client, "http://a.test/i", cap=10, codes=codes, describe=_describe)
    assert info.value.code == code and info.value.message == f"status:{status}"


async def test_a_declared_or_actual_excess_is_too_large() -> None:
    async with _client(lambda request: httpx.Response(200, content=b"x" * 11)) as client:
        with pytest.raises(ImagesError) as declared:
            await fetch_capped(client, "http://a.test/i", cap=10, codes=SERVE_CODES, describe=_describe)

    async def endless():
        for _ in range(5):
            yield b"x" * 4

    async with _client(lambda request: httpx.Response(200, content=endless())) as client:
        with pytest.raises(ImagesError) as streamed:
            await fetch_capped(client, "http://a.test/i", cap=10, codes=SERVE_CODES, describe=_describe)
    assert (declared.value.code, declared.value.message) == (ErrorCode.TOO_LARGE, "too_large:11")
    assert (streamed.value.code, streamed.value.message) == (ErrorCode.TOO_LARGE, "too_large:")


async def test_a_compressed_answer_is_refused_before_it_is_inflated() -> None:
    """httpx inflates each chunk with no output limit (64 KiB of gzip: 64 MiB at once, before
    the cap sees it): a URL fetch asks for no compression and refuses one that comes anyway."""
    import gzip

    asked: list[str] = []
    bomb = gzip.compress(b"\0" * (32 << 20))

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request.headers.get("accept-encoding", ""))
        return httpx.Response(200, content=bomb, headers={"Content-Encoding": "gzip"})

    async with _client(handler) as client:
        with pytest.raises(ImagesError) as info:
            await fetch_capped(
                client, "http://a.test/i.png", cap=1 << 20, codes=SERVE_CODES, describe=_describe
            )
    assert asked == ["identity"]
    assert info.value.code == ErrorCode.BAD_REQUEST and info.value.message == "transport:"


async def test_transport_failures_and_bad_urls() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with _client(refuse) as client:
        with pytest.raises(ImagesError) as info:
            await fetch_capped(client, "http://a.test/i", cap=10, codes=CLIENT_CODES, describe=_describe)
        assert (info.value.code, info.value.message) == (ErrorCode.NETWORK, "transport:")
        with pytest.raises(ImagesError) as bad:
            await fetch_capped(client, "file:///etc/passwd", cap=10, codes=CLIENT_CODES, describe=_describe)
        assert (bad.value.code, bad.value.message) == (ErrorCode.BAD_REQUEST, "not_http:file:///etc/passwd")


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("http://127.0.0.1:8790/cdn-cgi/imagedelivery/AbCdEfGhIjKlMnOpQrStUv/cats/tom.png/public", "tom.png"),
        (
            "https://imagedelivery.net/AbCdEfGhIjKlMnOpQrStUv/2cdc28f0-017a-49c4-9ed7-87056c83901d/w=100",
            "2cdc28f0-017a-49c4-9ed7-87056c83901d",
        ),
        ("https://example.com/AbCdEfGhIjKlMnOpQrStUv/cat/public", "public"),  # not a delivery host
        ("https://example.com/photos/dog.jpg?w=1", "dog.jpg"),
    ],
)
def test_a_delivery_url_is_named_after_its_image_not_its_variant(url: str, name: str) -> None:
    """The emulator's url ingest and the upload form share this: never a file called `public`."""
    assert filename_from_url(url) == name
