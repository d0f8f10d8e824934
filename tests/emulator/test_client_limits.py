"""The REST client against servers that try to hold it or flood it (issue 9, finding 5).

Each test points the real client at a loopback `ScriptedServer` that drips bytes, asks for an
hour's wait, or sends a decompression bomb, and checks the call ends soon with a clear error
and bounded memory. On the old client each of these hung or inflated: the outer `wait_for`
bounds how long such a failure takes to show.
"""

from __future__ import annotations

import asyncio
import functools
import gzip
import json
import os
import re
import socket
import threading
import time
import tracemalloc
import zlib
from collections.abc import Awaitable
from email.utils import formatdate
from typing import Any

import pytest

from imgtui.backends.cloudflare.body import (
    MAX_BLOB_BYTES,
    MAX_JSON_BYTES,
    PIECE,
    _Inflater,
    _through,
)
from imgtui.backends.cloudflare.deadline import DEADLINE_ENV, DEFAULT_DEADLINE, resolve_deadline
from imgtui.service import Images, ImagesError
from tests.rest_harness import (
    ACCOUNT_ID,
    FAST_RETRIES,
    RawRequest,
    ScriptedServer,
    drip,
    http_head,
    respond,
)

from .conftest import make_png

TOKEN = "limits-token-never-shown"
MiB = 1024 * 1024
RECORD = {"id": "x", "filename": "x.png", "uploaded": "2024-01-01T00:00:00Z", "variants": []}
DETAILS = json.dumps({"success": True, "errors": [], "messages": [], "result": RECORD}).encode()
LIST = json.dumps(
    {
        "success": True,
        "errors": [],
        "messages": [],
        "result": {"images": [RECORD], "continuation_token": None},
    }
).encode()


async def _bounded(call: Awaitable[Any], seconds: float = 8.0) -> Any:
    """The call, or a test failure (not a hang) if the client does not end it itself."""
    try:
        return await asyncio.wait_for(call, seconds)
    except TimeoutError:
        pytest.fail(f"the client was still waiting after {seconds} s")


def _client(server: ScriptedServer, **options: Any) -> Images:
    return Images.cloudflare(ACCOUNT_ID, TOKEN, base_url=server.api_url, **options)


# -- 1. an overall deadline per call -------------------------------------------------------


@pytest.mark.parametrize("given", ["option", "env"])
@pytest.mark.parametrize("in_head", [False, True], ids=["body", "head"])
async def test_a_dripping_server_cannot_hold_list_past_the_deadline(
    monkeypatch: pytest.MonkeyPatch, in_head: bool, given: str
) -> None:
    # One byte every 0.5 s resets httpx's read timeout each time: only an overall deadline ends it.
    options: dict[str, Any] = {"deadline": 2} if given == "option" else {}
    if given == "env":
        monkeypatch.setenv(DEADLINE_ENV, "2")
    with ScriptedServer(drip(http_head(200, length=len(LIST)), LIST, in_head=in_head)) as server:
        async with _client(server, read_timeout=1, **options) as images:
            started = time.monotonic()
            with pytest.raises(ImagesError) as caught:
                await _bounded(images.hosted.list())
            elapsed = time.monotonic() - started
    assert 1.9 <= elapsed < 2.5, elapsed
    assert caught.value.code == 9000
    assert "did not answer in time" in caught.value.message and "deadline of 2 s" in caught.value.message
    assert DEADLINE_ENV in caught.value.message and TOKEN not in str(caught.value)


async def test_the_deadline_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DEADLINE_ENV, "1.5")
    with ScriptedServer(drip(http_head(200, length=len(DETAILS)), DETAILS)) as server:
        async with _client(server, read_timeout=1) as images:
            started = time.monotonic()
            with pytest.raises(ImagesError) as caught:
                await _bounded(images.hosted.image("x").details())
    assert time.monotonic() - started < 2.0
    assert caught.value.code == 9000 and "deadline of 1.5 s" in caught.value.message


async def test_a_dripping_blob_is_cut_at_the_deadline() -> None:
    # The blob's head arrives at once, the bytes one by one: the stream obeys the same deadline.
    blob = b"\x89PNG" + b"\0" * 1000
    with ScriptedServer(
        drip(http_head(200, {"Content-Type": "image/png"}, length=len(blob)), blob)
    ) as server:
        async with _client(server, read_timeout=1, deadline=1.5) as images:
            started = time.monotonic()
            with pytest.raises(ImagesError) as caught:
                await _bounded(images.hosted.image("x").read())
    assert time.monotonic() - started < 2.0
    assert caught.value.code == 9000 and "did not send the whole image in time" in caught.value.message


async def test_retries_stop_at_the_deadline() -> None:
    # Every attempt times out after 0.4 s; 10 retries would take 4 s: the 1 s deadline ends it.
    silent = drip(http_head(200, length=10), b"x" * 10, every=5)
    with ScriptedServer(silent) as server:
        async with _client(server, read_timeout=0.4, max_retries=10, deadline=1, **FAST_RETRIES) as images:
            started = time.monotonic()
            with pytest.raises(ImagesError) as caught:
                await _bounded(images.hosted.image("x").details())
    assert time.monotonic() - started < 1.5
    assert caught.value.code == 9000 and len(server.requests) >= 2


async def test_an_upload_without_id_cut_by_the_deadline_says_it_may_be_stored() -> None:
    with ScriptedServer(drip(http_head(200, length=len(DETAILS)), DETAILS)) as server:
        async with _client(server, deadline=1) as images:
            with pytest.raises(ImagesError) as caught:
                await _bounded(images.hosted.upload(make_png()))
    assert caught.value.code == 9000 and "may or may not have been stored" in caught.value.message


async def test_the_client_works_again_after_a_call_was_cut() -> None:
    # The cut call's connection is dropped, not handed back to the pool half-read.
    answers = iter(
        [
            drip(http_head(200, length=len(DETAILS)), DETAILS),
            respond(200, DETAILS, {"Connection": "keep-alive"}),
            respond(200, DETAILS),
        ]
    )
    with ScriptedServer(lambda request, conn, stop: next(answers)(request, conn, stop)) as server:
        async with _client(server, deadline=1) as images:
            with pytest.raises(ImagesError):
                await _bounded(images.hosted.image("x").details())
            for _ in range(2):
                assert (await _bounded(images.hosted.image("x").details())).id == "x"


@pytest.mark.parametrize("bad", ["0", "-1", "soon", "nan", "inf"])
def test_a_bad_deadline_is_refused(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    with pytest.raises(ImagesError) as caught:
        Images.cloudflare(ACCOUNT_ID, TOKEN, deadline=float(bad) if bad != "soon" else bad)
    assert caught.value.code == 5400 and "deadline" in caught.value.message
    monkeypatch.setenv(DEADLINE_ENV, bad)
    with pytest.raises(ImagesError) as caught:
        Images.cloudflare(ACCOUNT_ID, TOKEN)
    assert caught.value.code == 5400 and DEADLINE_ENV in caught.value.message


def test_the_default_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DEADLINE_ENV, raising=False)
    assert resolve_deadline(None) == DEFAULT_DEADLINE == 120
    assert resolve_deadline(7) == 7


# -- 2. a Retry-After longer than the time left --------------------------------------------


def _rate_limited(retry_after: str) -> bytes:
    body = json.dumps(
        {
            "success": False,
            "errors": [{"code": 971, "message": "Please wait and consider throttling your request speed"}],
            "messages": [],
            "result": None,
        }
    ).encode()
    return http_head(429, {"Retry-After": retry_after}, length=len(body)) + body


def _raw(payload: bytes):
    def answer(request: RawRequest, conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(payload)

    return answer


@pytest.mark.parametrize(
    "retry_after", ["3600", formatdate(time.time() + 3600, usegmt=True)], ids=["seconds", "http-date"]
)
async def test_retry_after_an_hour_is_an_error_at_once(retry_after: str) -> None:
    # The old client slept min(3600, 30) s per retry, three times.
    with ScriptedServer(_raw(_rate_limited(retry_after))) as server:
        async with _client(server) as images:
            started = time.monotonic()
            with pytest.raises(ImagesError) as caught:
                await _bounded(images.hosted.list(), 5)
    assert time.monotonic() - started < 0.5
    assert len(server.requests) == 1
    assert caught.value.code == 971  # the answer's own code
    assert "HTTP 429" in caught.value.message and re.search(r"wait 3[56]\d\d s", caught.value.message)


async def test_a_5xx_retry_after_beyond_the_deadline_keeps_its_status() -> None:
    page = b"<html>busy</html>"
    answer = _raw(http_head(503, {"Retry-After": "5", "Content-Type": "text/html"}, length=len(page)) + page)
    with ScriptedServer(answer) as server:
        async with _client(server, deadline=2, max_retry_after=60) as images:
            started = time.monotonic()
            with pytest.raises(ImagesError) as caught:
                await _bounded(images.hosted.image("x").details(), 5)
    assert time.monotonic() - started < 0.5
    assert (
        caught.value.code == 9000
        and "HTTP 503" in caught.value.message
        and "wait 5 s" in caught.value.message
    )


async def test_a_short_retry_after_is_still_honoured() -> None:
    answers = iter([_rate_limited("1"), http_head(200, length=len(DETAILS)) + DETAILS])
    with ScriptedServer(lambda request, conn, stop: conn.sendall(next(answers))) as server:
        async with _client(server) as images:
            started = time.monotonic()
            record = await _bounded(images.hosted.image("x").details())
    assert record.id == "x" and 0.95 <= time.monotonic() - started < 3


# -- 3. bodies capped by their decompressed size -------------------------------------------


@functools.cache
def _gzip_bomb(inflated: int = 400 * MiB) -> bytes:
    """~1.4 MiB of gzip that inflates to `inflated` bytes: mostly spaces, 4 KiB of noise per MiB
    so it compresses like the one in the report rather than like pure zeros."""
    noise = os.urandom(2048).hex().encode()
    block = noise + b" " * (MiB - len(noise))
    packer = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    parts = [packer.compress(b'{"success": true, "result": {"id": "x", "pad": "')]
    parts += [packer.compress(block) for _ in range(inflated // MiB)]
    parts.append(packer.flush())
    return b"".join(parts)


def _bomb_answer(content_type: str) -> Any:
    bomb = _gzip_bomb()
    return respond(200, bomb, {"Content-Encoding": "gzip", "Content-Type": content_type})


async def _peak_bytes(call: Awaitable[Any]) -> tuple[int, BaseException | None]:
    """Peak traced memory while `call` runs (Python allocations, zlib's output included)."""
    tracemalloc.start()
    try:
        await _bounded(call, 20)
    except Exception as exc:  # the refusal is what the test checks
        error: BaseException | None = exc
    else:
        error = None
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak, error


async def test_a_gzip_bomb_json_answer_is_refused_in_bounded_memory() -> None:
    assert 1.2 * MiB < len(_gzip_bomb()) < 2.2 * MiB
    with ScriptedServer(_bomb_answer("application/json")) as server:
        async with _client(server) as images:
            peak, error = await _peak_bytes(images.hosted.image("x").details())
    assert isinstance(error, ImagesError), error
    assert error.code == 9000 and "larger than 8 MiB once decompressed" in error.message
    assert peak < MAX_JSON_BYTES + 24 * MiB, f"peak {peak / MiB:.0f} MiB"


async def test_a_gzip_bomb_blob_is_refused_in_bounded_memory() -> None:
    with ScriptedServer(_bomb_answer("image/png")) as server:
        async with _client(server) as images:
            peak, error = await _peak_bytes(images.hosted.image("x").read())
    assert isinstance(error, ImagesError), error
    assert error.code == 9000 and "larger than 20 MiB once decompressed" in error.message
    assert peak < MAX_BLOB_BYTES + 24 * MiB, f"peak {peak / MiB:.0f} MiB"


async def test_a_plain_answer_past_the_cap_is_refused() -> None:
    padded = json.dumps({"success": True, "result": {**RECORD, "pad": "a" * (9 * MiB)}}).encode()
    with ScriptedServer(respond(200, padded)) as server:
        async with _client(server) as images:
            with pytest.raises(ImagesError) as caught:
                await _bounded(images.hosted.image("x").details())
    assert caught.value.code == 9000 and "larger than 8 MiB" in caught.value.message


async def test_a_large_list_page_gets_room_in_proportion() -> None:
    # 2,000 records of ~5 KiB: past 8 MiB, within 2,000 x 8 KiB. A real page, not refused.
    records = [{**RECORD, "id": f"i{n}", "meta": {"note": "n" * 5000}} for n in range(2000)]
    page = json.dumps({"success": True, "result": {"images": records, "continuation_token": None}}).encode()
    assert len(page) > MAX_JSON_BYTES
    with ScriptedServer(respond(200, gzip.compress(page), {"Content-Encoding": "gzip"})) as server:
        async with _client(server) as images:
            listed = await _bounded(images.hosted.list(limit=2000))
    assert len(listed.images) == 2000


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "deflate-raw", "identity"])
async def test_ordinary_encoded_answers_still_read(encoding: str) -> None:
    body, name = {
        "gzip": (gzip.compress(DETAILS), "gzip"),
        "deflate": (zlib.compress(DETAILS), "deflate"),
        "deflate-raw": (zlib.compress(DETAILS, wbits=-15), "deflate"),
        "identity": (DETAILS, "identity"),
    }[encoding]
    with ScriptedServer(respond(200, body, {"Content-Encoding": name})) as server:
        async with _client(server) as images:
            record = await _bounded(images.hosted.image("x").details())
    assert record.id == "x"
    assert server.requests[0].headers["accept-encoding"] == "gzip, deflate"


async def test_an_encoding_not_asked_for_is_an_error() -> None:
    with ScriptedServer(respond(200, b"\x1b\x00garbage", {"Content-Encoding": "br"})) as server:
        async with _client(server) as images:
            with pytest.raises(ImagesError) as caught:
                await _bounded(images.hosted.image("x").details())
    assert caught.value.code == 9000 and "'br'-encoded" in caught.value.message


def _gzipped(data: bytes, times: int) -> bytes:
    for _ in range(times):
        data = gzip.compress(data, compresslevel=1)
    return data


async def test_thousands_of_encoding_layers_are_an_error_not_a_recursion() -> None:
    # Really gzipped 2,000 times, so every layer inflates: decoding recursed once per layer.
    layers = 2000
    answer = respond(200, _gzipped(DETAILS, layers), {"Content-Encoding": ", ".join(["gzip"] * layers)})
    with ScriptedServer(answer) as server:
        async with _client(server) as images:
            with pytest.raises(ImagesError) as caught:
                await _bounded(images.hosted.image("x").details())
    assert caught.value.code == 9000 and "at most 2 layers" in caught.value.message


@pytest.mark.parametrize("header", ["gzip, gzip", "deflate, gzip", "identity, gzip, identity, gzip"])
async def test_two_encoding_layers_still_read(header: str) -> None:
    body = DETAILS if "deflate" not in header else zlib.compress(DETAILS)
    body = _gzipped(body, header.count("gzip"))
    with ScriptedServer(respond(200, body, {"Content-Encoding": header})) as server:
        async with _client(server) as images:
            record = await _bounded(images.hosted.image("x").details())
    assert record.id == "x"


def test_a_two_layer_bomb_is_inflated_one_piece_at_a_time() -> None:
    # ~1 GiB of zeros behind two gzip layers, fed as one raw chunk: the pieces must come out
    # one by one (a caller's cap stops it at the first), never all at once.
    bomb = _gzipped(b"\0" * (1024 * MiB), 1)
    packed = gzip.compress(bomb)
    assert len(packed) < 64 * 1024
    tracemalloc.start()
    try:
        pieces = _through([_Inflater("gzip"), _Inflater("gzip")], packed)
        first = next(pieces)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert first == b"\0" * PIECE
    assert peak < 8 * MiB


def _then_endless(head: bytes, extra: int) -> Any:
    """`head` and then `extra` bytes of zeros, without a Content-Length (read to the close)."""

    def answer(request: RawRequest, conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(http_head(200, {"Content-Encoding": "gzip"}) + head)
        zeros = b"\0" * MiB
        try:
            for _ in range(extra // MiB):
                if stop.is_set():
                    return
                conn.sendall(zeros)
        except OSError:  # the client hung up: what a refusal looks like from here
            return

    return answer


async def test_bytes_after_the_compressed_end_are_refused_not_kept() -> None:
    # zlib keeps whatever follows the end of a gzip stream in `unused_data`, uncounted: 64 MiB
    # of trailing zeros were held in memory under a 8 MiB cap, and the call succeeded.
    with ScriptedServer(_then_endless(gzip.compress(DETAILS), 64 * MiB)) as server:
        async with _client(server) as images:
            peak, error = await _peak_bytes(images.hosted.image("x").details())
    assert isinstance(error, ImagesError), error
    assert error.code == 9000 and "follow the end of the compressed body" in error.message
    assert peak < 8 * MiB, f"peak {peak / MiB:.0f} MiB"


async def test_a_stray_byte_after_the_compressed_end_is_still_read() -> None:
    with ScriptedServer(respond(200, gzip.compress(DETAILS) + b"\n", {"Content-Encoding": "gzip"})) as server:
        async with _client(server) as images:
            record = await _bounded(images.hosted.image("x").details())
    assert record.id == "x"


async def test_json_nested_too_deep_is_a_network_error_not_a_crash() -> None:
    deep = b"[" * 200_000 + b"]" * 200_000
    with ScriptedServer(respond(200, deep)) as server:
        async with _client(server) as images:
            with pytest.raises(ImagesError) as caught:
                await _bounded(images.hosted.image("x").details())
    assert caught.value.code == 9000 and "not JSON" in caught.value.message


@pytest.mark.parametrize("size", [0, 1, PIECE - 1, PIECE, 3 * PIECE, 3 * PIECE + 7, 1_000_003])
@pytest.mark.parametrize("coding", ["gzip", "deflate", "deflate-raw"])
@pytest.mark.parametrize("step", [1, 5, 4096, 1 << 20])
def test_the_bounded_inflater_matches_zlib(size: int, coding: str, step: int) -> None:
    if step < 4096 and size > PIECE:  # byte-by-byte feeding of a megabyte is slow and adds nothing
        return
    data = (os.urandom(64).hex().encode() * (size // 128 + 1))[:size]
    packed = {
        "gzip": gzip.compress(data),
        "deflate": zlib.compress(data),
        "deflate-raw": zlib.compress(data, wbits=-15),
    }[coding]
    layer = [_Inflater("gzip" if coding == "gzip" else "deflate")]
    pieces = [p for i in range(0, len(packed), step) for p in _through(layer, packed[i : i + step])]
    assert b"".join(pieces) == data
    assert all(len(piece) <= PIECE for piece in pieces)
