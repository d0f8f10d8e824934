"""The account endpoints of `imgtui serve`: routing, variants, config, batch tokens, token
verification, and what named and flexible variants deliver."""

from __future__ import annotations

import io
from collections.abc import Iterator

import httpx
import pytest
from PIL import Image

from imgtui.emulator import BackgroundEmulator
from tests.rest_harness import ACCOUNT_ID, start_emulator

from .conftest import TOKEN, assert_error, assert_ok, make_jpeg, make_png

HERO = {"fit": "cover", "width": 100, "height": 50, "metadata": "none"}


@pytest.fixture
def fresh(tmp_path) -> Iterator[BackgroundEmulator]:
    """A brand-new library: `public` only, flexible variants off (as a new Cloudflare account)."""
    emulator = start_emulator(tmp_path / "fresh", api_token=TOKEN)
    try:
        yield emulator
    finally:
        emulator.stop()


def _client(server: BackgroundEmulator, token: str | None = TOKEN) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(base_url=f"{server.api_url}/accounts/{ACCOUNT_ID}/images", headers=headers)


async def _upload(api: httpx.AsyncClient, data: bytes, **form: str) -> dict:
    result = assert_ok(await api.post("/v1", files={"file": ("p.jpg", data, "image/jpeg")}, data=form))
    assert isinstance(result, dict)
    return result


def _size(response: httpx.Response) -> tuple[int, int]:
    assert response.status_code == 200, response.text
    with Image.open(io.BytesIO(response.content)) as image:
        return image.size


async def test_endpoint_names_are_never_image_ids(fresh: BackgroundEmulator) -> None:
    async with _client(fresh) as api:
        assert "variants" in assert_ok(await api.get("/v1/variants"))
        assert "flexible_variants" in assert_ok(await api.get("/v1/config"))
        assert "token" in assert_ok(await api.get("/v1/batch_token"))
        assert_error(await api.delete("/v1/stats"), 405, 7001)
        assert_error(await api.patch("/v1/keys", json={}), 405, 7001)
        assert_error(await api.delete("/v1/batch_token"), 405, 7001)
        assert_error(await api.get("/v1/direct_upload"), 404, 7000)  # an endpoint, not an image (5404)


async def test_variants_over_http_have_cloudflares_shapes(fresh: BackgroundEmulator) -> None:
    async with _client(fresh) as api:
        listed = assert_ok(await api.get("/v1/variants"))
        assert listed == {
            "variants": {
                "public": {
                    "id": "public",
                    "options": {"fit": "scale-down", "width": 12000, "height": 12000, "metadata": "keep"},
                    "neverRequireSignedURLs": False,
                }
            }
        }
        created = assert_ok(await api.post("/v1/variants", json={"id": "hero", "options": HERO}))
        assert created == {"variant": {"id": "hero", "options": HERO, "neverRequireSignedURLs": False}}
        assert assert_ok(await api.get("/v1/variants/hero")) == created
        assert_error(await api.post("/v1/variants", json={"id": "hero", "options": HERO}), 409, 5409)
        assert_error(await api.post("/v1/variants", json={"id": "hero"}), 400, 5400)
        assert_error(await api.post("/v1/variants", content=b"[1]"), 400, 5400)
        edited = assert_ok(
            await api.patch(
                "/v1/variants/hero", json={"options": {**HERO, "width": 60}, "neverRequireSignedURLs": True}
            )
        )
        assert edited["variant"]["options"]["width"] == 60 and edited["variant"]["neverRequireSignedURLs"]
        assert assert_ok(await api.delete("/v1/variants/hero")) == {}
        assert_error(await api.get("/v1/variants/hero"), 404, 5404)
        assert_error(await api.delete("/v1/variants/public"), 400, 5400)


async def test_config_switches_flexible_variants_for_delivery(fresh: BackgroundEmulator) -> None:
    async with _client(fresh) as api, httpx.AsyncClient() as web:
        image = await _upload(api, make_jpeg(640, 480))
        base = image["variants"][0].rsplit("/", 1)[0]
        assert [url.rsplit("/", 1)[1] for url in image["variants"]] == ["public"]
        assert (await web.get(f"{base}/thumbnail")).status_code == 404  # a new account has none
        refused = await web.get(f"{base}/w=100")
        assert refused.status_code == 403 and "Flexible variants" in refused.text
        assert assert_ok(await api.patch("/v1/config", json={"flexible_variants": True})) == {
            "flexible_variants": True
        }
        assert _size(await web.get(f"{base}/w=100")) == (100, 75)
        assert_error(await api.patch("/v1/config", json={"flexible_variants": "on"}), 400, 5400)
        assert_error(await api.patch("/v1/config", json={}), 400, 5400)


async def test_named_variants_drive_delivery_and_edits_show_at_once(fresh: BackgroundEmulator) -> None:
    async with _client(fresh) as api, httpx.AsyncClient() as web:
        image = await _upload(api, make_jpeg(640, 480))
        base = image["variants"][0].rsplit("/", 1)[0]
        public = await web.get(f"{base}/public")
        assert public.content == make_jpeg(640, 480)  # the stored file, untouched
        assert_ok(await api.post("/v1/variants", json={"id": "hero", "options": HERO}))
        assert _size(await web.get(f"{base}/hero")) == (100, 50)
        assert_ok(await api.patch("/v1/variants/hero", json={"options": {**HERO, "fit": "scale-down"}}))
        assert _size(await web.get(f"{base}/hero")) == (67, 50)  # not the cached cover render
        details = assert_ok(await api.get(f"/v1/{image['id']}"))
        assert isinstance(details, dict)
        assert sorted(url.rsplit("/", 1)[1] for url in details["variants"]) == ["hero", "public"]


async def test_never_require_signed_urls_serves_a_private_image_unsigned(fresh: BackgroundEmulator) -> None:
    async with _client(fresh) as api, httpx.AsyncClient() as web:
        image = await _upload(api, make_png(), requireSignedURLs="true")
        base = image["variants"][0].rsplit("/", 1)[0]
        assert_ok(
            await api.post(
                "/v1/variants", json={"id": "open", "options": HERO, "neverRequireSignedURLs": True}
            )
        )
        assert_ok(await api.post("/v1/variants", json={"id": "closed", "options": HERO}))
        assert (await web.get(f"{base}/public")).status_code == 403
        assert (await web.get(f"{base}/closed")).status_code == 403
        assert _size(await web.get(f"{base}/open")) == (100, 50)


async def test_exif_follows_the_variants_metadata_option(fresh: BackgroundEmulator) -> None:
    exif = Image.Exif()
    exif[0x8298], exif[0x010F] = "(c) Ann", "CameraMaker"
    out = io.BytesIO()
    Image.new("RGB", (200, 100), (1, 2, 3)).save(out, "JPEG", exif=exif.tobytes())
    async with _client(fresh) as api, httpx.AsyncClient() as web:
        image = await _upload(api, out.getvalue())
        base = image["variants"][0].rsplit("/", 1)[0]
        kept = {}
        for handling in ("keep", "copyright", "none"):
            assert_ok(
                await api.post(
                    "/v1/variants", json={"id": handling, "options": {**HERO, "metadata": handling}}
                )
            )
            response = await web.get(f"{base}/{handling}")
            with Image.open(io.BytesIO(response.content)) as served:
                kept[handling] = dict(served.getexif())
        assert kept["keep"] == {0x8298: "(c) Ann", 0x010F: "CameraMaker"}
        assert kept["copyright"] == {0x8298: "(c) Ann"}
        assert kept["none"] == {}


async def test_a_batch_token_authorizes_the_documented_image_calls_only(fresh: BackgroundEmulator) -> None:
    async with _client(fresh) as api:
        issued = assert_ok(await api.get("/v1/batch_token"))
        assert isinstance(issued, dict) and issued["expiresAt"].endswith("Z")
    async with _client(fresh, issued["token"]) as batch:
        image = await _upload(batch, make_png())
        assert assert_ok(await batch.get(f"/v1/{image['id']}"))
        assert assert_ok(await batch.get("/v2"))
        assert_error(await batch.get("/v1/variants"), 401, 10000)
        assert_error(await batch.get("/v1/batch_token"), 401, 10000)
    async with _client(fresh, "not-a-batch-token") as forged:
        assert_error(await forged.get("/v2"), 401, 10000)


async def test_tokens_verify_answers_as_cloudflare(fresh: BackgroundEmulator) -> None:
    async with httpx.AsyncClient(base_url=fresh.api_url) as client:
        good = await client.get("/user/tokens/verify", headers={"Authorization": f"Bearer {TOKEN}"})
        body = good.json()
        assert good.status_code == 200 and body["success"] is True and body["result"]["status"] == "active"
        assert body["messages"][0]["message"] == "This API Token is valid and active"
        for headers in ({"Authorization": "Bearer wrong"}, {}):
            bad = await client.get("/user/tokens/verify", headers=headers)
            assert_error(bad, 401, 1000)


async def test_signed_urls_verify_with_any_current_key_and_both_path_forms(fresh: BackgroundEmulator) -> None:
    from imgtui.service.signing import CDN_PREFIX, sign_url

    async with _client(fresh) as api, httpx.AsyncClient() as web:
        image = await _upload(api, make_png(), requireSignedURLs="true")
        url = image["variants"][0]
        keys = assert_ok(await api.put("/v1/keys/second"))["keys"]
        assert [key["name"] for key in keys] == ["default", "second"]
        values = {key["name"]: key["value"] for key in keys}
        by_default, by_second = sign_url(url, values["default"]), sign_url(url, values["second"])
        assert (await web.get(by_default)).status_code == 200
        assert (await web.get(by_second)).status_code == 200
        # Signed over the whole pathname, prefix included (a Worker signing url.pathname).
        path = url[url.index(CDN_PREFIX) :]
        import hashlib
        import hmac

        sig = hmac.new(values["second"].encode(), f"{path}?".encode(), hashlib.sha256).hexdigest()
        assert (await web.get(f"{url}?sig={sig}")).status_code == 200
        # imagedelivery.net's own form: /<hash>/<id>/<variant>, signed the same way.
        bare = url.replace(CDN_PREFIX, "")
        assert (await web.get(sign_url(bare, values["second"]))).status_code == 200
        assert (await web.get(bare)).status_code == 403
        # Deleting a key invalidates the URLs it signed, and only those.
        keys = assert_ok(await api.delete("/v1/keys/second"))["keys"]
        assert [key["name"] for key in keys] == ["default"]
        assert (await web.get(by_second)).status_code == 403
        assert (await web.get(by_default)).status_code == 200
        assert_error(await api.delete("/v1/keys/second"), 404, 5404)
        assert_error(await api.put("/v1/keys/bad-name"), 400, 5400)
        assert (await web.get(f"{fresh.base_url}/not-our-hash/x/public")).status_code == 404


async def test_v2_list_honours_meta_filters_and_refuses_what_it_cannot(fresh: BackgroundEmulator) -> None:
    async with _client(fresh) as api:
        for n, meta in enumerate(
            ['{"n": 1, "s": "x"}', '{"n": 2, "s": "y"}', '{"n": "1", "r": {"k": "eu"}}']
        ):
            assert_ok(
                await api.post(
                    "/v1",
                    files={"file": ("p.png", make_png(), "image/png")},
                    data={"id": f"m{n}", "metadata": meta},
                )
            )

        async def ids(query: str) -> list[str]:
            result = assert_ok(await api.get(f"/v2?sort_order=asc&{query}"))
            assert isinstance(result, dict)
            return [image["id"] for image in result["images"]]

        assert await ids("meta.n%5Beq%3Anumber%5D=1") == ["m0"]  # as the TypeScript SDK encodes it
        assert await ids("meta.n[eq]=1") == ["m0", "m2"]  # untyped: the number 1 and the text "1"
        assert await ids("meta.n[eq:string]=1") == ["m2"]
        assert await ids("meta.s[in]=x|y") == ["m0", "m1"]
        assert await ids("meta.n[gte]=2") == ["m1"]
        assert await ids("meta.r.k[eq]=eu") == ["m2"]
        assert await ids("meta.n[eq:number]=5&meta.n[lte:number]=3") == []
        for bad in (
            "meta.n[like]=1",
            "meta.n[gt]=abc",
            "meta.n[gt:string]=a",
            "meta.n=1",
            "meta.s[in]=" + "|".join("abcdefghijk"),
        ):
            assert_error(await api.get(f"/v2?{bad}"), 400, 5400)


async def test_delivery_options_cloudflare_documents(fresh: BackgroundEmulator) -> None:
    async with _client(fresh) as api, httpx.AsyncClient() as web:
        assert_ok(await api.patch("/v1/config", json={"flexible_variants": True}))
        image = await _upload(api, make_jpeg(640, 480))
        base = image["variants"][0].rsplit("/", 1)[0]
        assert _size(await web.get(f"{base}/w=100,h=100,fit=squeeze")) == (100, 100)
        assert _size(await web.get(f"{base}/w=100,dpr=2")) == (200, 150)
        avif = await web.get(f"{base}/w=50,format=avif")
        assert avif.headers["content-type"] == "image/avif" and _size(avif) in ((50, 37), (50, 38))
        baseline = await web.get(f"{base}/w=50,format=baseline-jpeg")
        with Image.open(io.BytesIO(baseline.content)) as served:
            assert served.format == "JPEG" and not served.info.get("progressive")
        info = (await web.get(f"{base}/w=64,format=json")).json()
        assert info["width"] == 64 and info["original"]["width"] == 640
        assert info["original"]["format"] == "image/jpeg"
        low = await web.get(f"{base}/w=300,q=low")
        high = await web.get(f"{base}/w=300,q=high")
        assert len(low.content) < len(high.content)
        webp = await web.get(f"{base}/w=40,f=auto", headers={"Accept": "image/webp,*/*"})
        assert webp.headers["content-type"] == "image/webp" and webp.headers["vary"] == "Accept"
        avif_auto = await web.get(f"{base}/w=40,f=auto", headers={"Accept": "image/avif,image/webp"})
        assert avif_auto.headers["content-type"] == "image/avif"
        plain = await web.get(f"{base}/w=40,f=auto", headers={"Accept": "*/*"})
        assert plain.headers["content-type"] == "image/jpeg"
        for unsupported, named in (
            ("w=10,sharpen=3", "sharpen"),
            ("w=10,q=ultra", "quality"),
            ("w=10,dpr=0", "dpr"),
        ):
            refused = await web.get(f"{base}/{unsupported}")
            assert refused.status_code == 400 and named in refused.text, refused.text
