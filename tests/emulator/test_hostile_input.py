"""Hostile request input answers 5400 (never a 500 or a RecursionError) and leaves the
keep-alive connection usable for the next request (finding 6)."""

from __future__ import annotations

import json

import httpx
import pytest

from imgtui.emulator import BackgroundEmulator
from tests.rest_harness import ACCOUNT_ID

from .conftest import TOKEN, assert_error, assert_ok, make_png

DEEP = 30_000


@pytest.fixture
async def one_connection(server: BackgroundEmulator):
    """One authenticated client held to a single keep-alive connection."""
    async with httpx.AsyncClient(
        base_url=f"{server.api_url}/accounts/{ACCOUNT_ID}/images",
        headers={"Authorization": f"Bearer {TOKEN}"},
        limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        timeout=10,
    ) as client:
        yield client


def _local_port(response: httpx.Response) -> int:
    """The client-side port of the connection that carried `response`."""
    return response.extensions["network_stream"].get_extra_info("client_addr")[1]


async def _then_a_good_request_on_the_same_connection(client: httpx.AsyncClient, bad: httpx.Response) -> None:
    good = await client.get("/v1/stats")
    assert_ok(good)
    assert _local_port(good) == _local_port(bad), "the bad request cost the keep-alive connection"


@pytest.mark.parametrize(
    "params",
    [
        {"per_page": "1e309"},
        {"per_page": "-1e309"},
        {"per_page": "nan"},
        {"per_page": "inf"},
        {"page": "-1"},
        {"page": "1e309"},
        {"page": "9" * 5000},
    ],
)
async def test_absurd_list_numbers_are_5400(
    one_connection: httpx.AsyncClient, params: dict[str, str]
) -> None:
    for version in ("/v1", "/v2"):
        if version == "/v2" and "page" in params:
            continue
        bad = await one_connection.get(version, params=params)
        assert_error(bad, 400, 5400)
        await _then_a_good_request_on_the_same_connection(one_connection, bad)


@pytest.mark.parametrize(
    "body",
    [
        b"[" * DEEP,
        b"{" * DEEP,
        b'{"metadata": ' + b"[" * DEEP + b"]" * DEEP + b"}",
        b'{"metadata": ' + b'{"a":' * 3000 + b"1" + b"}" * 3000 + b"}",
    ],
    ids=["arrays", "objects", "metadata-arrays", "metadata-objects"],
)
async def test_deep_patch_bodies_are_5400(one_connection: httpx.AsyncClient, body: bytes) -> None:
    assert_ok(await one_connection.post("/v1", files={"file": ("a.png", make_png())}, data={"id": "deep"}))
    bad = await one_connection.patch("/v1/deep", content=body, headers={"Content-Type": "application/json"})
    assert_error(bad, 400, 5400)
    await _then_a_good_request_on_the_same_connection(one_connection, bad)


async def test_deep_upload_metadata_is_5400(one_connection: httpx.AsyncClient) -> None:
    deep_json = '{"a":' * 100 + "1" + "}" * 100  # short enough to reach the depth check
    bad = await one_connection.post(
        "/v1", files={"file": ("a.png", make_png())}, data={"metadata": deep_json}
    )
    assert "deep" in assert_error(bad, 400, 5400)
    await _then_a_good_request_on_the_same_connection(one_connection, bad)
    arrays = "[" * DEEP
    bad = await one_connection.post("/v1", files={"file": ("a.png", make_png())}, data={"metadata": arrays})
    assert_error(bad, 400, 5400)
    await _then_a_good_request_on_the_same_connection(one_connection, bad)


async def test_deep_flattened_metadata_fields_are_5400(one_connection: httpx.AsyncClient) -> None:
    key = "metadata" + ".a" * 1500  # within the multipart header limit
    bad = await one_connection.post("/v1", files={"file": ("a.png", make_png())}, data={key: "1"})
    assert "deep" in assert_error(bad, 400, 5400)
    await _then_a_good_request_on_the_same_connection(one_connection, bad)


async def test_reasonable_nesting_still_works(one_connection: httpx.AsyncClient) -> None:
    nested: dict = {"leaf": 1}
    for _ in range(20):
        nested = {"n": nested}
    result = assert_ok(
        await one_connection.post(
            "/v1", files={"file": ("a.png", make_png())}, data={"metadata": json.dumps(nested), "id": "ok"}
        )
    )
    assert result["meta"] == nested
    patched = assert_ok(await one_connection.patch("/v1/ok", json={"metadata": {"a": [[[1]]]}}))
    assert patched["meta"] == {"a": [[[1]]]}
