"""`images.account`: the same calls against a local library and over REST (`imgtui serve`)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from imgtui.service import Images, ImagesError
from imgtui.service.account import MAX_VARIANTS, AccountSettings, Usage, Variant, VariantOptions

from .imagedata import png

HERO = {"fit": "cover", "width": 800, "height": 400, "metadata": "none"}


async def test_a_new_library_has_public_only_and_flexible_variants_off(images: Images) -> None:
    variants = await images.account.variants.list()
    assert [variant.id for variant in variants] == ["public"]
    assert await images.account.settings.get() == AccountSettings(flexible_variants=False)


async def test_variants_create_get_edit_delete(images: Images) -> None:
    variants = images.account.variants
    created = await variants.create("hero", HERO, never_require_signed_urls=True)
    assert created == Variant("hero", VariantOptions("cover", 800, 400, "none"), True)
    assert await variants.get("hero") == created
    assert [variant.id for variant in await variants.list()] == ["hero", "public"]
    edited = await variants.edit("hero", {"fit": "pad", "width": 10.0, "height": 20, "metadata": "keep"})
    assert edited == Variant("hero", VariantOptions("pad", 10, 20, "keep"), True)  # the flag kept
    assert (
        await variants.edit("hero", edited.options, never_require_signed_urls=False)
    ).never_require_signed_urls is False
    await variants.delete("hero")
    assert await variants.get("hero") is None
    # An image's variant URLs follow the account's variants.
    await variants.create("thumb", HERO)
    image = await images.hosted.upload(png())
    assert sorted(url.rsplit("/", 1)[1] for url in image.variants) == ["public", "thumb"]


async def test_variant_errors_are_cloudflares(images: Images) -> None:
    variants = images.account.variants
    await variants.create("hero", HERO)
    cases = [
        (variants.create("hero", HERO), 5409),
        (variants.create("bad-name", HERO), 5400),
        (variants.create("x" * 100, HERO), 5400),
        (variants.create("ok", {**HERO, "fit": "stretch"}), 5400),
        (variants.create("ok", {**HERO, "width": 0}), 5400),
        (variants.create("ok", {**HERO, "width": 12_001}), 5400),
        (variants.create("ok", {**HERO, "metadata": "all"}), 5400),
        (variants.create("ok", {"fit": "cover"}), 5400),
        (variants.edit("missing", HERO), 5404),
        (variants.delete("missing"), 5404),
        (variants.delete("public"), 5400),
    ]
    for call, code in cases:
        with pytest.raises(ImagesError) as info:
            await call
        assert info.value.code == code, info.value
    assert await variants.get("no such!") is None


async def test_settings_usage_and_keys(images: Images) -> None:
    assert await images.account.settings.update(flexible_variants=True) == AccountSettings(True)
    assert await images.account.settings.get() == AccountSettings(True)
    with pytest.raises(ImagesError) as info:
        await images.account.settings.update(flexible_variants="yes")  # type: ignore[arg-type]
    assert info.value.code == 5400
    await images.hosted.upload(png())
    assert await images.account.stats() == Usage(current=1, allowed=100_000)
    keys = await images.account.keys.list()
    assert [key.name for key in keys] == ["default"] and len(keys[0].value) >= 16


async def test_the_account_has_at_most_100_variants(local_images: Images) -> None:
    for n in range(MAX_VARIANTS - 1):
        await local_images.account.variants.create(f"v{n}", HERO)
    with pytest.raises(ImagesError) as info:
        await local_images.account.variants.create("onemore", HERO)
    assert info.value.code == 5400 and "100" in info.value.message


async def test_a_version_1_library_is_migrated_by_the_writer_keeping_what_it_served(tmp_path: Path) -> None:
    library = tmp_path / "lib"
    async with Images.local(library) as images:
        await images.hosted.upload(png(), id="old")
    # Make it what imgtui wrote before variants were stored: schema 1, no variants table.
    conn = sqlite3.connect(library / "library.sqlite3")
    conn.execute("DROP TABLE variants")
    conn.execute("DROP TABLE signing_keys")
    conn.execute("DROP INDEX images_by_draft_key")
    conn.execute("ALTER TABLE images DROP COLUMN draft_key")
    conn.execute("ALTER TABLE images DROP COLUMN draft_expires_ms")
    old_key = conn.execute("SELECT value FROM settings WHERE key = 'signing_key'").fetchone()[0]
    conn.execute("DELETE FROM settings WHERE key = 'flexible_variants'")
    conn.execute("PRAGMA user_version=1")
    conn.commit()
    conn.close()
    async with Images.local(library) as images:
        assert [variant.id for variant in await images.account.variants.list()] == ["public", "thumbnail"]
        assert (await images.account.settings.get()).flexible_variants is True
        assert [(key.name, key.value) for key in await images.account.keys.list()] == [("default", old_key)]
        details = await images.hosted.image("old").details()
        assert details is not None and [url.rsplit("/", 1)[1] for url in details.variants] == [
            "public",
            "thumbnail",
        ]
    version = sqlite3.connect(library / "library.sqlite3").execute("PRAGMA user_version").fetchone()[0]
    assert version == 2


async def test_signing_keys_create_delete_and_sign_with_a_named_key(images: Images) -> None:
    keys = images.account.keys
    before = await keys.list()
    after = await keys.create("second")
    assert [key.name for key in after] == ["default", "second"] and after[0] == before[0]
    second = next(key.value for key in after if key.name == "second")
    assert len(second) >= 16 and second != before[0].value
    image = await images.hosted.upload(png(), require_signed_urls=True)
    handle = images.hosted.image(image.id)
    default_url = await handle.signed_url("public", expires_in=60)
    second_url = await handle.signed_url("public", expires_in=60, key_name="second")
    assert default_url != second_url and "exp=" in second_url
    with pytest.raises(ImagesError) as info:
        await handle.signed_url("public", key_name="nokey")
    assert info.value.code == 5404
    with pytest.raises(ImagesError) as info:
        await handle.signed_url("public", key_name="bad name")
    assert info.value.code == 5400
    assert [key.name for key in await keys.delete("second")] == ["default"]
    with pytest.raises(ImagesError) as info:
        await keys.delete("second")
    assert info.value.code == 5404
    # Deleting the last key makes a new `default`, as Cloudflare does.
    renewed = await keys.delete("default")
    assert [key.name for key in renewed] == ["default"] and renewed[0].value != before[0].value
