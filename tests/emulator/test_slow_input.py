"""Bodies built to make parsing slow are answered fast, and never stall the event loop for
other requests (review finding: a 32 KB PATCH of `"\\"\\"...` took 2.8 s, a GET meanwhile 2.5 s)."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest

from imgtui.emulator import BackgroundEmulator
from imgtui.emulator.api import MAX_METADATA_TEXT_BYTES, MAX_PATCH_BYTES
from imgtui.emulator.jsonbody import json_depth_exceeds
from tests.rest_harness import ACCOUNT_ID

from .conftest import TOKEN, assert_error, assert_ok, make_png

# An unterminated string of escaped quotes: a string pattern that must end with `"` fails
# from every quote in turn (quadratic).
QUOTES = '"' + '\\"' * (MAX_PATCH_BYTES // 2 - 1)
FAST = 0.5  # seconds; the quadratic scan took ~11 s on a 64 KiB body


@pytest.fixture
async def client(server: BackgroundEmulator):
    async with httpx.AsyncClient(
        base_url=f"{server.api_url}/accounts/{ACCOUNT_ID}/images",
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=30,
    ) as client:
        yield client


async def _timed(request) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    response = await request
    return response, time.perf_counter() - started


@pytest.mark.parametrize(
    "text",
    [QUOTES, "[" + '"\\"[' * 20_000, "[]" * (MAX_PATCH_BYTES // 2), "[" * 64 + '"' + "\\" * 60_000],
    ids=["escaped-quotes", "quoted-brackets", "many-brackets", "backslashes"],
)
def test_depth_scan_is_linear(text: str) -> None:
    started = time.perf_counter()
    json_depth_exceeds(text)
    assert time.perf_counter() - started < 0.05


def test_depth_scan_skips_strings_and_counts_the_rest() -> None:
    assert json_depth_exceeds("[" * 65) and not json_depth_exceeds("[" * 64)
    assert not json_depth_exceeds('["' + "[" * 100 + '"]')  # brackets in a string
    assert not json_depth_exceeds('["\\"' + "[" * 100 + '"]')  # ...after an escaped quote
    assert json_depth_exceeds('["\\\\"' + "[" * 64)  # an escaped backslash ends the string
    assert not json_depth_exceeds('"' + "[" * 100)  # an unterminated string runs to the end
    assert json_depth_exceeds('{"a":' * 65 + "1" + "}" * 65)
    assert not json_depth_exceeds('{"a":' * 64 + "1" + "}" * 64)


async def test_a_hostile_patch_is_fast_and_does_not_block_others(client: httpx.AsyncClient) -> None:
    assert_ok(await client.post("/v1", files={"file": ("a.png", make_png())}, data={"id": "x"}))
    body = QUOTES.encode()
    assert len(body) <= MAX_PATCH_BYTES
    patch = asyncio.ensure_future(
        _timed(client.patch("/v1/x", content=body, headers={"Content-Type": "application/json"}))
    )
    await asyncio.sleep(0.02)  # let the PATCH reach the server first
    (stats, waited), (bad, took) = await asyncio.gather(_timed(client.get("/v1/stats")), patch)
    assert_error(bad, 400, 5400)
    assert_ok(stats)
    assert took < FAST and waited < FAST, (took, waited)


async def test_long_metadata_text_is_refused_before_parsing(client: httpx.AsyncClient) -> None:
    text = QUOTES[: MAX_METADATA_TEXT_BYTES * 5]  # ~4 s for the quadratic scan
    bad, took = await _timed(
        client.post("/v1", files={"file": ("a.png", make_png())}, data={"metadata": text})
    )
    assert "at most 1024 bytes" in assert_error(bad, 400, 5400)
    assert took < FAST


async def test_a_huge_metadata_file_part_is_refused_unread(client: httpx.AsyncClient) -> None:
    part = ("m.json", b'{"a": "' + b"x" * (4 * 1024 * 1024) + b'"}', "application/json")
    bad = await client.post("/v1", files={"file": ("a.png", make_png()), "metadata": part})
    assert "at most 1024 bytes" in assert_error(bad, 400, 5400)


async def test_escaped_metadata_within_the_limit_is_still_accepted(client: httpx.AsyncClient) -> None:
    # 1000 bytes as compact UTF-8, ~2.9 KB as Python's json.dumps sends it (\u00e9 escapes).
    metadata = {"k": "é" * 494}
    sent = json.dumps(metadata, indent=2)
    assert len(sent) > 2_900
    result = assert_ok(
        await client.post("/v1", files={"file": ("a.png", make_png())}, data={"metadata": sent})
    )
    assert result["meta"] == metadata
    # Sent as a file part, the same.
    part = ("m.json", sent.encode(), "application/json")
    result = assert_ok(await client.post("/v1", files={"file": ("a.png", make_png()), "metadata": part}))
    assert result["meta"] == metadata
