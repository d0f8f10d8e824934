"""Library specs (`Images.open`): what each form opens, and clear refusals of bad ones.
A token never appears in a spec, a repr or a message."""

from __future__ import annotations

from pathlib import Path

import pytest

from imgtui.backends.cloudflare import CloudflareBackend
from imgtui.backends.local import LocalBackend
from imgtui.backends.wrangler import WranglerBackend
from imgtui.service import Images, ImagesError
from imgtui.service.spec import REST_API_PATH, SERVE_ACCOUNT_ID, LibrarySpec, parse_spec

from .imagedata import png

SECRET = "spec-test-secret-token-value"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CLOUDFLARE_ACCOUNT_ID", "CLOUDFLARE_API_TOKEN", "CLOUDFLARE_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    ("spec", "parsed"),
    [
        ("local:/srv/lib", LibrarySpec("local", "/srv/lib")),
        ("/srv/lib", LibrarySpec("local", "/srv/lib")),
        ("relative/lib", LibrarySpec("local", "relative/lib")),
        ("C:\\imgtui\\lib", LibrarySpec("local", "C:\\imgtui\\lib")),  # a drive, not a scheme
        ("cf:0123456789abcdef", LibrarySpec("cloudflare", "0123456789abcdef")),
        ("http://127.0.0.1:8787", LibrarySpec("rest", "http://127.0.0.1:8787" + REST_API_PATH)),
        ("HTTPS://Example.test:8443/client/v4/", LibrarySpec("rest", "https://example.test:8443/client/v4")),
        ("http://[::1]:8787/api", LibrarySpec("rest", "http://[::1]:8787/api")),
        ("wrangler:/srv/worker", LibrarySpec("wrangler", "/srv/worker")),
        ("WRANGLER:my-worker/.wrangler/state", LibrarySpec("wrangler", "my-worker/.wrangler/state")),
        ("wrangler:", LibrarySpec("wrangler", ".")),  # the current project, as `wrangler dev`
        ("wrangler:  ", LibrarySpec("wrangler", ".")),
    ],
)
def test_good_specs(spec: str, parsed: LibrarySpec) -> None:
    assert parse_spec(spec) == parsed


def test_local_expands_the_home_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert parse_spec("local:~/lib").target == str(tmp_path / "lib")
    assert parse_spec("wrangler:~/worker").target == str(tmp_path / "worker")


@pytest.mark.parametrize("spec", ["local:/srv/lib", "cf:0123456789abcdef", "wrangler:/srv/worker"])
def test_a_parsed_spec_prints_as_it_parses(spec: str) -> None:
    assert str(parse_spec(spec)) == spec


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("local:", "needs a directory"),
        ("local:  ", "needs a directory"),
        ("cf:", "account id"),
        ("cf:../../etc", "account id"),
        ("cf:abc/def", "account id"),
        ("cf:" + "a" * 65, "account id"),
        ("s3:bucket", "unknown scheme 's3'"),
        ("s3:bucket", "wrangler:DIR"),  # the refusal lists every scheme
        ("ftp://example.test/x", "unknown scheme 'ftp'"),
        ("http://", "no host"),
        ("http://host:99999", "not a valid URL"),
        ("http://host:port", "not a valid URL"),
        ("http://host/x?token=1", "query"),
        ("http://host/x#frag", "fragment"),
        ("lib\x00dir", "control characters"),
        ("local:/tmp/\nlib", "control characters"),
        ("x" * 5000, "too long"),
    ],
)
def test_bad_specs_say_what_is_wrong(spec: str, says: str) -> None:
    with pytest.raises(ValueError, match="Invalid library spec") as info:
        parse_spec(spec)
    assert says in str(info.value)
    assert len(str(info.value)) < 200  # a huge spec is not echoed whole


def test_a_spec_that_is_not_a_string_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        parse_spec(b"local:/x")  # type: ignore[arg-type]


@pytest.mark.parametrize("spec", [f"http://user:{SECRET}@host:8787", f"https://{SECRET}@host"])
def test_credentials_in_a_url_are_refused_without_being_quoted(spec: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_spec(spec)
    assert "credentials" in str(info.value)
    assert SECRET not in str(info.value).replace(spec[:79], "")  # only the (cut) spec is echoed


async def test_open_local_and_bare_path(tmp_path: Path) -> None:
    for spec in (f"local:{tmp_path / 'a'}", str(tmp_path / "b")):
        async with Images.open(spec) as images:
            assert isinstance(images.backend, LocalBackend)
            assert (await images.hosted.list()).images == []


async def test_open_local_passes_the_seams(tmp_path: Path) -> None:
    async with Images.open(f"local:{tmp_path}", clock=lambda: 0, new_id=lambda: "fixed-id") as images:
        meta = await images.hosted.upload(png())
    assert meta.id == "fixed-id" and meta.uploaded.year == 1970


async def test_open_wrangler_is_read_only_and_opens_nothing_until_used(tmp_path: Path) -> None:
    async with Images.open(f"wrangler:{tmp_path}") as images:  # no state there: no error yet
        assert isinstance(images.backend, WranglerBackend)
        assert images.label == f"wrangler dev state {tmp_path} (read-only)"
        with pytest.raises(ImagesError) as info:
            await images.hosted.list()
        assert ".wrangler/state/v3/images" in info.value.message
        with pytest.raises(ImagesError) as info:
            await images.hosted.upload(png())
        assert "read-only" in info.value.message
    assert folder_is_empty(tmp_path)  # nothing was created


def folder_is_empty(path: Path) -> bool:
    return not any(path.iterdir())


async def test_open_cloudflare_takes_the_token_from_the_environment_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(ImagesError) as info:
        Images.open("cf:0123456789abcdef")
    assert "CLOUDFLARE_API_TOKEN" in info.value.message
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", SECRET)
    images = Images.open("cf:0123456789abcdef")
    try:
        assert isinstance(images.backend, CloudflareBackend)
        assert SECRET not in repr(images) and SECRET not in images.label
        assert SECRET not in repr(images.backend)
    finally:
        await images.aclose()


async def test_open_a_serve_url_reaches_imgtui_serve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.rest_harness import start_emulator

    server = start_emulator(tmp_path / "lib", api_token=SECRET)
    try:
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", SECRET)
        base = server.api_url.removesuffix(REST_API_PATH)
        async with Images.open(base, max_retries=0) as images:
            assert isinstance(images.backend, CloudflareBackend)
            assert SECRET not in repr(images)
            assert (await images.hosted.list()).list_complete
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "wrong")
        async with Images.open(server.api_url, max_retries=0) as images:
            with pytest.raises(ImagesError) as info:
                await images.hosted.list()
            assert info.value.code == 10000
    finally:
        server.stop()


def test_a_serve_url_uses_a_placeholder_account_unless_the_environment_names_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert parse_spec("http://127.0.0.1:8787").account_id is None
    images = Images.open("http://127.0.0.1:8787")  # no token set: `imgtui serve` may need none
    assert images.label.startswith(f"Cloudflare account {SERVE_ACCOUNT_ID[:8]}")
    assert "127.0.0.1:8787" in images.label
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "acct")
    assert parse_spec("http://127.0.0.1:8787").account_id == "acct"


async def test_cache_keys_tell_apart_what_labels_cut_short(tmp_path: Path) -> None:
    """The header cuts an account id to 8 characters; caches (catalogue, thumbnails) are named
    by the whole id and API URL, so two accounts never read each other's catalogue."""
    from imgtui.catalogue import catalogue_path

    first, second = "abcdef12" + "0" * 24, "abcdef12" + "1" * 24
    opened = [
        Images.cloudflare(first, SECRET),
        Images.cloudflare(second, SECRET),
        Images.cloudflare(first, SECRET, base_url="http://127.0.0.1:8787/client/v4"),
        Images.cloudflare(first, SECRET, base_url="http://127.0.0.1:8787/other/v4"),
        Images.cloudflare(first, SECRET, base_url="http://user:pw@127.0.0.1:8787/client/v4"),
    ]
    try:
        assert opened[0].label == opened[1].label  # the same label on screen...
        keys = [images.cache_key for images in opened]
        assert len(set(keys[:4])) == 4  # ...but each its own cache
        assert len({catalogue_path(key, tmp_path) for key in keys[:4]}) == 4
        assert keys[4] == keys[2]  # userinfo is not part of a key (nor ever in a file name)
        assert all(SECRET not in key and "pw" not in key for key in keys)
    finally:
        for images in opened:
            await images.aclose()
    local = Images.local(tmp_path / "lib")
    assert (
        local.cache_key == f"local library {(tmp_path / 'lib').absolute()}"
    )  # unchanged: old catalogues stay
    await local.aclose()
