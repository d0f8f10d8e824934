"""The official `cloudflare` Python SDK (5.x) drives the emulator: upload, list (v2), get,
blob, edit, delete, stats and keys, with a custom id containing "/"; variants, signing keys and
metadata filters (via extra_query)."""

from __future__ import annotations

import cloudflare
import httpx
import pytest

from imgtui.emulator import BackgroundEmulator
from tests.rest_harness import ACCOUNT_ID

from .conftest import TOKEN, make_png


@pytest.fixture
def sdk(server: BackgroundEmulator):
    client = cloudflare.Cloudflare(api_token=TOKEN, base_url=server.api_url, max_retries=0)
    yield client
    client.close()


def test_the_official_sdk_round_trip(sdk: cloudflare.Cloudflare, server: BackgroundEmulator) -> None:
    v1 = sdk.images.v1
    created = v1.create(
        account_id=ACCOUNT_ID,
        file=("cat.png", make_png(), "image/png"),
        id="pets/cat",
        metadata={"name": "tom", "owner": {"id": 7}},
        creator="ann",
    )
    assert created.id == "pets/cat" and created.filename == "cat.png"
    # the SDK flattens metadata into `metadata.name` form fields: leaves come back as text
    assert created.meta == {"name": "tom", "owner": {"id": "7"}} and created.require_signed_urls is False
    assert created.uploaded is not None and len(created.variants) == 2  # public, thumbnail

    generated = v1.create(account_id=ACCOUNT_ID, file=("dog.png", make_png(8, 8), "image/png"))
    fillers = [
        v1.create(account_id=ACCOUNT_ID, file=("f.png", make_png(4, 4), "image/png")).id for _ in range(9)
    ]
    listed = sdk.images.v2.list(account_id=ACCOUNT_ID, per_page=10, sort_order="asc")
    assert [image.id for image in listed.images] == ["pets/cat", generated.id, *fillers[:8]]
    rest = sdk.images.v2.list(
        account_id=ACCOUNT_ID, per_page=10, sort_order="asc", continuation_token=listed.continuation_token
    )
    assert [image.id for image in rest.images] == fillers[8:] and rest.continuation_token is None

    fetched = v1.get("pets/cat", account_id=ACCOUNT_ID)
    assert fetched.id == "pets/cat" and fetched.meta == created.meta
    assert v1.blobs.get("pets/cat", account_id=ACCOUNT_ID).read() == make_png()

    # edit sends JSON, so types survive (the multipart upload above sends text leaves)
    edited = v1.edit(
        "pets/cat", account_id=ACCOUNT_ID, metadata={"name": "tom", "age": 3, "tags": {"a": True}}
    )
    assert edited.meta == {"name": "tom", "age": 3, "tags": {"a": True}}
    private = v1.edit(generated.id, account_id=ACCOUNT_ID, require_signed_urls=True)
    assert private.require_signed_urls is True

    assert v1.stats.get(account_id=ACCOUNT_ID).count.current == 11
    assert v1.keys.list(account_id=ACCOUNT_ID).keys[0].value == server.state.signing_key

    v1.delete("pets/cat", account_id=ACCOUNT_ID)
    with pytest.raises(cloudflare.NotFoundError):
        v1.get("pets/cat", account_id=ACCOUNT_ID)
    with pytest.raises(cloudflare.ConflictError):
        v1.create(account_id=ACCOUNT_ID, file=("dog.png", make_png(), "image/png"), id=generated.id + "x")
        v1.create(account_id=ACCOUNT_ID, file=("dog.png", make_png(), "image/png"), id=generated.id + "x")


def test_the_sdk_is_refused_without_the_token(server: BackgroundEmulator) -> None:
    with (
        cloudflare.Cloudflare(api_token="wrong", base_url=server.api_url, max_retries=0) as client,
        pytest.raises(cloudflare.AuthenticationError),
    ):
        client.images.v2.list(account_id=ACCOUNT_ID)


def test_the_sdk_manages_the_accounts_variants_keys_and_filters(sdk: cloudflare.Cloudflare) -> None:
    v1 = sdk.images.v1
    options = {"fit": "cover", "width": 100, "height": 50, "metadata": "none"}
    created = v1.variants.create(
        account_id=ACCOUNT_ID, id="hero", options=options, never_require_signed_urls=True
    )
    assert created.variant is not None and created.variant.id == "hero"
    assert created.variant.options.width == 100 and created.variant.never_require_signed_urls is True
    listed = v1.variants.list(account_id=ACCOUNT_ID)
    assert listed.variants is not None and listed.variants.hero is not None  # the SDK models `hero` only
    got = v1.variants.get("hero", account_id=ACCOUNT_ID)
    assert got.variant is not None and got.variant.options.fit == "cover"
    edited = v1.variants.edit("hero", account_id=ACCOUNT_ID, options={**options, "fit": "pad"})
    assert edited.variant is not None and edited.variant.options.fit == "pad"
    v1.variants.delete("hero", account_id=ACCOUNT_ID)
    with pytest.raises(cloudflare.NotFoundError):
        v1.variants.get("hero", account_id=ACCOUNT_ID)

    keys = v1.keys.update("second", account_id=ACCOUNT_ID)
    assert sorted(key.name for key in keys.keys or []) == ["default", "second"]
    keys = v1.keys.delete("second", account_id=ACCOUNT_ID)
    assert [key.name for key in keys.keys or []] == ["default"]

    for n in range(3):
        v1.create(
            account_id=ACCOUNT_ID, file=("p.png", make_png(), "image/png"), id=f"m{n}", metadata={"n": n}
        )
    # Metadata filters go as extra query parameters (the SDK has no argument for them). The
    # SDK's multipart upload sent `n` as a text leaf, so the untyped `in` matches it as text.
    page = sdk.images.v2.list(account_id=ACCOUNT_ID, sort_order="asc", extra_query={"meta.n[in]": "1|2"})
    assert [image.id for image in page.images or []] == ["m1", "m2"]
    with pytest.raises(cloudflare.BadRequestError):
        sdk.images.v2.list(account_id=ACCOUNT_ID, extra_query={"meta.n[like]": 1})


def test_the_sdk_creates_a_direct_upload(sdk: cloudflare.Cloudflare) -> None:
    created = sdk.images.v2.direct_uploads.create(account_id=ACCOUNT_ID, id="by/sdk", metadata={"k": "v"})
    assert created.id == "by/sdk" and created.upload_url
    assert sdk.images.v1.get("by/sdk", account_id=ACCOUNT_ID).meta == {"k": "v"}
    with httpx.Client() as browser:
        done = browser.post(created.upload_url, files={"file": ("cat.png", make_png(), "image/png")})
    assert done.status_code == 200, done.text
    assert sdk.images.v1.blobs.get("by/sdk", account_id=ACCOUNT_ID).read() == make_png()
