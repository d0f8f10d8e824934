"""The REST API's shapes, statuses and error codes, driven with raw httpx requests."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

import httpx
import pytest

from imgtui.emulator import BackgroundEmulator
from imgtui.service.rules import MAX_UPLOAD_BYTES
from tests.rest_harness import ACCOUNT_ID

from .conftest import SVG, TOKEN, assert_error, assert_ok, make_png

RFC3339_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


async def _upload(api: httpx.AsyncClient, data: bytes = b"", **form: str) -> httpx.Response:
    return await api.post("/v1", files={"file": ("pic.png", data or make_png(), "image/png")}, data=form)


async def test_upload_answers_cloudflares_image_record(
    api: httpx.AsyncClient, server: BackgroundEmulator
) -> None:
    result = assert_ok(
        await _upload(api, id="cats/tom", metadata='{"k":"v"}', creator="ann", requireSignedURLs="false")
    )
    assert set(result) == {"id", "filename", "uploaded", "requireSignedURLs", "meta", "variants", "creator"}
    assert result["id"] == "cats/tom" and result["filename"] == "pic.png"
    assert (
        result["meta"] == {"k": "v"} and result["creator"] == "ann" and result["requireSignedURLs"] is False
    )
    assert RFC3339_Z.match(result["uploaded"])
    hash_ = server.state.account_hash
    assert sorted(result["variants"]) == [
        f"{server.base_url}/cdn-cgi/imagedelivery/{hash_}/cats/tom/public",
        f"{server.base_url}/cdn-cgi/imagedelivery/{hash_}/cats/tom/thumbnail",
    ]


async def test_generated_ids_are_uuids_and_optional_fields_are_left_out(api: httpx.AsyncClient) -> None:
    result = assert_ok(await _upload(api))
    assert re.fullmatch(r"[0-9a-f-]{36}", result["id"])
    assert "creator" not in result and "meta" not in result and "draft" not in result


async def test_details_blob_patch_delete_with_an_encoded_slash_id(api: httpx.AsyncClient) -> None:
    assert_ok(await _upload(api, id="a/b c%"))
    path = "/v1/" + quote("a/b c%", safe="")
    assert assert_ok(await api.get(path))["id"] == "a/b c%"

    blob = await api.get(path + "/blob")
    assert (
        blob.status_code == 200 and blob.headers["content-type"] == "image/png" and blob.content == make_png()
    )

    patched = assert_ok(await api.patch(path, json={"metadata": {"n": 1}, "creator": "bob"}))
    assert patched["meta"] == {"n": 1} and patched["creator"] == "bob"
    # metadata replaces, omitted fields stay
    patched = assert_ok(await api.patch(path, json={"metadata": {"m": 2}}))
    assert patched["meta"] == {"m": 2} and patched["creator"] == "bob"

    assert assert_ok(await api.delete(path)) == {}
    assert_error(await api.get(path), 404, 5404)
    assert_error(await api.get(path + "/blob"), 404, 5404)
    assert_error(await api.delete(path), 404, 5404)
    assert_error(await api.patch(path, json={"creator": "x"}), 404, 5404)


async def test_duplicate_id_is_409_5409(api: httpx.AsyncClient) -> None:
    assert_ok(await _upload(api, id="dup"))
    assert "exists" in assert_error(await _upload(api, id="dup"), 409, 5409)


async def test_signed_urls_with_a_custom_id_are_refused(api: httpx.AsyncClient) -> None:
    assert_error(await _upload(api, id="custom", requireSignedURLs="true"), 400, 5410)
    assert_ok(await _upload(api, id="custom"))
    assert_error(await api.patch("/v1/custom", json={"requireSignedURLs": True}), 400, 5410)


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (make_png(), "image/png"),
        (b"id=x&file=y", "application/x-www-form-urlencoded"),
        (b"{}", "application/json"),
    ],
)
async def test_a_raw_or_urlencoded_upload_is_415_5415(
    api: httpx.AsyncClient, content: bytes, content_type: str
) -> None:
    message = assert_error(
        await api.post("/v1", content=content, headers={"Content-Type": content_type}), 415, 5415
    )
    assert "multipart/form-data" in message


async def test_not_an_image_is_415_5455(api: httpx.AsyncClient) -> None:
    assert_error(await _upload(api, data=b"%PDF-1.4 definitely not an image"), 415, 5455)


async def test_bad_form_fields_are_400_5400(api: httpx.AsyncClient) -> None:
    assert_error(await _upload(api, metadata="{not json"), 400, 5400)
    assert_error(await _upload(api, metadata=""), 400, 5400)
    assert_error(await _upload(api, metadata="[1, 2]"), 400, 5400)
    assert_error(await _upload(api, metadata=json.dumps({"k": "x" * 2000})), 400, 5400)
    assert_error(await _upload(api, requireSignedURLs="maybe"), 400, 5400)
    assert_error(await _upload(api, id="12345678-1234-1234-1234-123456789012"), 400, 5400)
    assert_error(await api.post("/v1", files={"other": ("a", b"b")}), 400, 5400)  # no file, no url
    assert_error(
        await api.post("/v1", files={"file": ("a.png", make_png())}, data={"url": "http://x/y.png"}),
        400,
        5400,
    )
    assert_error(await api.patch("/v1/x", json=[1]), 400, 5400)
    assert_error(
        await api.patch("/v1/x", content=b"{oops", headers={"Content-Type": "application/json"}), 400, 5400
    )


async def test_an_oversized_update_body_is_refused(api: httpx.AsyncClient) -> None:
    assert_ok(await _upload(api, id="p"))
    assert_error(await api.patch("/v1/p", json={"creator": "x" * 100_000}), 413, 5413)


async def test_patch_with_a_form_is_400_5400(api: httpx.AsyncClient) -> None:
    assert_ok(await _upload(api, id="p"))
    assert_error(await api.patch("/v1/p", files={"metadata": (None, '{"a":1}')}), 400, 5400)


async def test_an_oversized_upload_is_413_5413(api: httpx.AsyncClient) -> None:
    big = make_png() + b"\0" * MAX_UPLOAD_BYTES
    assert_error(await _upload(api, data=big), 413, 5413)
    assert assert_ok(await api.get("/v1/stats"))["count"]["current"] == 0


async def test_auth_is_required_and_compared_exactly(server: BackgroundEmulator) -> None:
    base = f"{server.api_url}/accounts/{ACCOUNT_ID}/images/v1"
    async with httpx.AsyncClient() as client:
        for headers in (
            {},
            {"Authorization": "Bearer wrong"},
            {"Authorization": f"Basic {TOKEN}"},
            {"Authorization": f"Bearer {TOKEN}x"},
        ):
            assert_error(await client.get(base, headers=headers), 401, 10000)
            assert_error(
                await client.post(base, headers=headers, files={"file": ("a", make_png())}), 401, 10000
            )
        assert_ok(await client.get(base, headers={"Authorization": f"Bearer {TOKEN}"}))
    assert server.state.library is not None
    # nothing was stored by the refused uploads
    assert await_count(server) == 0


def await_count(server: BackgroundEmulator) -> int:
    response = httpx.get(
        f"{server.api_url}/accounts/x/images/v1/stats", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    return response.json()["result"]["count"]["current"]


async def test_unknown_routes_and_methods_answer_an_envelope(api: httpx.AsyncClient) -> None:
    assert_error(await api.get("/v3"), 404, 7000)
    assert_error(await api.get("/v1/a/b/c"), 404, 7000)
    assert_error(await api.put("/v1"), 405, 7001)
    assert_error(await api.post("/v2"), 405, 7001)


async def test_v1_list_pages_and_creator(api: httpx.AsyncClient) -> None:
    for i in range(25):
        assert_ok(await _upload(api, id=f"i{i:02}", **({"creator": "ann"} if i in (1, 3) else {})))
    first = await api.get("/v1", params={"page": 1, "per_page": 10})
    assert [image["id"] for image in assert_ok(first)["images"]] == [f"i{i:02}" for i in range(10)]
    assert first.json()["result_info"] == {"page": 1, "per_page": 10, "count": 10}
    third = assert_ok(await api.get("/v1", params={"page": 3, "per_page": 10}))
    assert [image["id"] for image in third["images"]] == [f"i{i:02}" for i in range(20, 25)]
    # The schema's default page is 1000 images, its minimum 10.
    assert (await api.get("/v1")).json()["result_info"]["per_page"] == 1000
    assert_error(await api.get("/v1", params={"per_page": 9}), 400, 5400)
    ann = assert_ok(await api.get("/v1", params={"creator": "ann"}))
    assert [image["id"] for image in ann["images"]] == ["i01", "i03"]
    nobody = assert_ok(await api.get("/v1", params={"creator": ""}))
    assert len(nobody["images"]) == 23 and nobody["images"][0]["id"] == "i00"
    assert_error(await api.get("/v1", params={"page": 0}), 400, 5400)
    assert_error(await api.get("/v1", params={"per_page": "lots"}), 400, 5400)


async def test_v2_list_pages_with_a_continuation_token(api: httpx.AsyncClient) -> None:
    for i in range(12):
        assert_ok(await _upload(api, id=f"i{i:02}"))
    first = assert_ok(await api.get("/v2", params={"per_page": 10, "sort_order": "desc"}))
    assert [image["id"] for image in first["images"]] == [f"i{i:02}" for i in range(11, 1, -1)]
    assert isinstance(first["continuation_token"], str)
    rest = assert_ok(
        await api.get(
            "/v2",
            params={"per_page": 10, "sort_order": "desc", "continuation_token": first["continuation_token"]},
        )
    )
    assert [image["id"] for image in rest["images"]] == ["i01", "i00"] and rest["continuation_token"] is None
    # The schema's default order is descending; its smallest page 10 images.
    default = assert_ok(await api.get("/v2"))
    assert [image["id"] for image in default["images"]][:2] == ["i11", "i10"]
    assert_error(await api.get("/v2", params={"per_page": 9}), 400, 5400)
    assert_error(await api.get("/v2", params={"continuation_token": "forged"}), 400, 5400)
    assert_error(await api.get("/v2", params={"sort_order": "sideways"}), 400, 5400)
    assert_error(await api.get("/v2", params={"per_page": 0}), 400, 5400)


async def test_stats_and_keys(api: httpx.AsyncClient, server: BackgroundEmulator) -> None:
    assert_ok(await _upload(api))
    assert assert_ok(await api.get("/v1/stats")) == {"count": {"current": 1, "allowed": 100_000}}
    keys = assert_ok(await api.get("/v1/keys"))["keys"]
    assert keys == [{"name": "default", "value": server.state.signing_key}]
    assert len(server.state.signing_key) >= 16


# -- url ingest -----------------------------------------------------------------------------


class _Origin(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/pic.png":
            body, status = make_png(), 200
        elif self.path == "/huge.png":
            body, status = make_png() + b"\0" * (MAX_UPLOAD_BYTES + 10), 200
        else:
            body, status = b"nope", 404
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def origin() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Origin)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


async def test_url_ingest_fetches_the_image(api: httpx.AsyncClient, origin: str) -> None:
    result = assert_ok(
        await api.post("/v1", files={"url": (None, f"{origin}/pic.png"), "id": (None, "fetched")})
    )
    assert result["id"] == "fetched" and result["filename"] == "pic.png"
    assert (await api.get("/v1/fetched/blob")).content == make_png()


async def test_url_ingest_failures(api: httpx.AsyncClient, origin: str) -> None:
    assert "HTTP 404" in assert_error(
        await api.post("/v1", files={"url": (None, f"{origin}/missing.png")}), 400, 5400
    )
    assert_error(await api.post("/v1", files={"url": (None, f"{origin}/huge.png")}), 413, 5413)
    assert_error(await api.post("/v1", files={"url": (None, "ftp://example.com/a.png")}), 400, 5400)
    assert_error(await api.post("/v1", files={"url": (None, "http://127.0.0.1:1/a.png")}), 400, 5400)
    assert assert_ok(await api.get("/v1/stats"))["count"]["current"] == 0


async def test_svg_uploads_keep_their_type(api: httpx.AsyncClient) -> None:
    assert_ok(await api.post("/v1", files={"file": ("v.svg", SVG, "image/svg+xml")}, data={"id": "vec"}))
    assert (await api.get("/v1/vec/blob")).headers["content-type"] == "image/svg+xml"
