"""Delivery: named and flexible variants, SVG, caching headers, and signed URLs made by both
backends' `signed_url` (local library and REST client) checked by the emulator."""

from __future__ import annotations

import io
import time
from collections.abc import AsyncIterator
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from PIL import Image

from imgtui.emulator import BackgroundEmulator
from imgtui.service import Images
from imgtui.service.signing import CDN_PREFIX, sign_url
from tests.rest_harness import ACCOUNT_ID, FAST_RETRIES

from .conftest import SVG, TOKEN, make_jpeg, make_png


@pytest.fixture
async def rest(server: BackgroundEmulator) -> AsyncIterator[Images]:
    images = Images.cloudflare(ACCOUNT_ID, TOKEN, base_url=server.api_url, **FAST_RETRIES)
    yield images
    await images.aclose()


@pytest.fixture
async def local(server: BackgroundEmulator) -> AsyncIterator[Images]:
    """The same library opened directly (a second process-like client), delivering via the server."""
    images = Images.local(server.settings.library, delivery_base=server.base_url + CDN_PREFIX)
    yield images
    await images.aclose()


def _size(response: httpx.Response) -> tuple[int, int]:
    with Image.open(io.BytesIO(response.content)) as image:
        return image.size


def _variant(image_url: str, variant: str) -> str:
    return image_url.rsplit("/", 1)[0] + "/" + variant


async def test_public_is_the_original_and_thumbnail_fits_320(rest: Images, web: httpx.AsyncClient) -> None:
    image = await rest.hosted.upload(make_jpeg(640, 480), id="photos/one")
    public = await web.get(_variant(image.variants[0], "public"))
    assert public.status_code == 200 and public.content == make_jpeg(640, 480)
    assert public.headers["content-type"] == "image/jpeg"
    thumb = await web.get(_variant(image.variants[0], "thumbnail"))
    assert thumb.status_code == 200 and _size(thumb) == (320, 240)
    assert thumb.headers["content-type"] == "image/jpeg"


async def test_small_images_are_not_enlarged_by_thumbnail(rest: Images, web: httpx.AsyncClient) -> None:
    image = await rest.hosted.upload(make_png(64, 48))
    assert _size(await web.get(_variant(image.variants[0], "thumbnail"))) == (64, 48)


@pytest.mark.parametrize(
    ("options", "size"),
    [
        ("w=100", (100, 75)),
        ("h=120", (160, 120)),
        ("w=100,h=100,fit=scale-down", (100, 75)),
        ("w=100,h=100,fit=contain", (100, 75)),
        ("w=100,h=100,fit=cover", (100, 100)),
        ("w=100,h=100,fit=crop", (100, 100)),
        ("w=100,h=100,fit=pad", (100, 100)),
        ("w=2000,fit=contain", (2000, 1500)),
        ("w=2000,fit=scale-down", (640, 480)),
        ("w=2000,h=2000,fit=crop", (640, 480)),
    ],
)
async def test_flexible_variants(
    rest: Images, web: httpx.AsyncClient, options: str, size: tuple[int, int]
) -> None:
    image = await rest.hosted.upload(make_jpeg(640, 480))
    response = await web.get(_variant(image.variants[0], options))
    assert response.status_code == 200, response.text
    assert _size(response) == size


async def test_flexible_format_conversion(rest: Images, web: httpx.AsyncClient) -> None:
    image = await rest.hosted.upload(make_png(64, 48))
    response = await web.get(_variant(image.variants[0], "w=32,format=webp"))
    assert response.headers["content-type"] == "image/webp" and _size(response) == (32, 24)


async def test_format_only_variant_keeps_the_size(rest: Images, web: httpx.AsyncClient) -> None:
    # No width or height: convert only (this once raised TypeError in the renderer: a 500).
    image = await rest.hosted.upload(make_png(64, 48))
    response = await web.get(_variant(image.variants[0], "format=webp"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/webp" and _size(response) == (64, 48)


async def test_format_only_variant_of_a_jpeg(rest: Images, web: httpx.AsyncClient) -> None:
    # JPEGs are drafted to the wanted size: with no size wanted that was draft((0, 0)),
    # a ZeroDivisionError and a 500.
    image = await rest.hosted.upload(make_jpeg(64, 48))
    response = await web.get(_variant(image.variants[0], "format=webp"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/webp" and _size(response) == (64, 48)


async def test_bad_variants(rest: Images, web: httpx.AsyncClient) -> None:
    image = await rest.hosted.upload(make_png())
    assert (await web.get(_variant(image.variants[0], "w=0"))).status_code == 400
    assert (await web.get(_variant(image.variants[0], "w=10,fit=stretch"))).status_code == 400
    assert (await web.get(_variant(image.variants[0], "nonesuch"))).status_code == 404
    assert (
        await web.get(_variant(image.variants[0].replace(image.id, "missing"), "public"))
    ).status_code == 404
    hash_start = image.variants[0].index("/imagedelivery/") + len("/imagedelivery/")
    wrong_account = image.variants[0][:hash_start] + "x" + image.variants[0][hash_start:]
    assert (await web.get(wrong_account)).status_code == 404


async def test_svg_is_never_resized(rest: Images, web: httpx.AsyncClient) -> None:
    image = await rest.hosted.upload(SVG)
    for variant in ("thumbnail", "w=10,h=10,fit=cover"):
        response = await web.get(_variant(image.variants[0], variant))
        assert response.content == SVG and response.headers["content-type"] == "image/svg+xml"


async def test_etag_revalidation(rest: Images, web: httpx.AsyncClient) -> None:
    image = await rest.hosted.upload(make_png(), id="cached")
    url = _variant(image.variants[0], "thumbnail")
    first = await web.get(url)
    again = await web.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    # A new image under the same id is a new ETag: no stale picture.
    await rest.hosted.image("cached").delete()
    await rest.hosted.upload(make_png(10, 10), id="cached")
    fresh = await web.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert fresh.status_code == 200 and _size(fresh) == (10, 10)


async def test_head_has_no_body(rest: Images, web: httpx.AsyncClient) -> None:
    image = await rest.hosted.upload(make_png())
    response = await web.head(image.variants[0])
    assert response.status_code == 200 and response.content == b""
    assert response.headers["content-length"] == str(len(make_png()))


# -- signed URLs ----------------------------------------------------------------------------


def _with_query(url: str, **changes: str | None) -> str:
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query))
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return urlunsplit(parts._replace(query=urlencode(params)))


@pytest.mark.parametrize("signer", ["rest", "local"])
async def test_private_images_need_a_valid_signature(
    signer: str, rest: Images, local: Images, web: httpx.AsyncClient
) -> None:
    images = rest if signer == "rest" else local
    image = await images.hosted.upload(make_jpeg(640, 480), require_signed_urls=True)
    handle = images.hosted.image(image.id)

    assert (await web.get(image.variants[0])).text == "Missing signature"
    assert (await web.get(image.variants[0])).status_code == 403

    for variant in ("public", "thumbnail"):
        signed = await handle.signed_url(variant, expires_in=60)
        response = await web.get(signed)
        assert response.status_code == 200, response.text
    assert _size(response) == (320, 240)
    forever = await handle.signed_url("public")
    assert "exp=" not in forever and (await web.get(forever)).status_code == 200

    signed = await handle.signed_url("public", expires_in=60)
    sig = dict(parse_qsl(urlsplit(signed).query))["sig"]
    tampered = _with_query(signed, sig=("0" if sig[0] != "0" else "1") + sig[1:])
    assert (await web.get(tampered)).text == "Invalid signature"
    extended = _with_query(signed, exp=str(int(time.time()) + 10_000))
    assert (await web.get(extended)).text == "Invalid signature"
    other_image = signed.replace(image.id, image.id[:-1] + ("0" if image.id[-1] != "0" else "1"))
    assert (await web.get(other_image)).status_code in (403, 404)

    key = await _signing_key(web, images)
    expired = sign_url(image.variants[0], key, expires_at=int(time.time()) - 5)
    response = await web.get(expired)
    assert (response.status_code, response.text) == (403, "Signature expired")


async def _signing_key(web: httpx.AsyncClient, images: Images) -> str:
    response = await web.get(
        f"/client/v4/accounts/{ACCOUNT_ID}/images/v1/keys", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    return response.json()["result"]["keys"][0]["value"]


async def test_flexible_variants_are_refused_for_private_images(rest: Images, web: httpx.AsyncClient) -> None:
    image = await rest.hosted.upload(make_png(), require_signed_urls=True)
    signed = await rest.hosted.image(image.id).signed_url("w=10", expires_in=60)
    response = await web.get(signed)
    assert response.status_code == 403 and "Flexible variants" in response.text


async def test_public_images_ignore_signatures(rest: Images, web: httpx.AsyncClient) -> None:
    image = await rest.hosted.upload(make_png(), id="open")
    signed = await rest.hosted.image("open").signed_url("public", expires_in=60)
    assert (await web.get(signed)).status_code == 200
    assert (await web.get(image.variants[0])).status_code == 200


async def test_signed_url_of_a_missing_image_is_5404(rest: Images) -> None:
    from imgtui.service import ImagesError

    with pytest.raises(ImagesError) as caught:
        await rest.hosted.image("ghost").signed_url("public")
    assert caught.value.code == 5404
