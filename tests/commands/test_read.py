"""`imgtui ls`, `info` and `sign`, against a local library and `imgtui serve`."""

from __future__ import annotations

import asyncio
import json

import pytest

from imgtui.backends.local import LocalBackend
from imgtui.commands import COMMANDS
from imgtui.commands.app import _commands

from .conftest import Where, png


def test_the_dispatch_names_are_the_table() -> None:
    assert set(_commands()) == COMMANDS


def test_ls_json_is_the_binding_shape(run, lib: Where) -> None:
    result = run("ls", *lib.args, "--json")
    assert result.code == 0, result.err
    images = result.json()
    assert isinstance(images, list)
    assert {image["id"] for image in images} == set(lib.ids)
    private = next(image for image in images if image["filename"] == "private.png")
    assert private["requireSignedURLs"] is True
    assert private["uploaded"].endswith("Z")
    assert private["meta"] == {"k": ["v1", 2]}


def test_ls_ndjson_one_image_per_line(run, lib: Where) -> None:
    result = run("ls", *lib.args, "--ndjson", "--order", "desc")
    lines = result.out.splitlines()
    assert [json.loads(line)["id"] for line in lines] == list(reversed(lib.ids))


def test_ls_filters(run, lib: Where) -> None:
    def ids(*extra: str) -> list[str]:
        result = run("ls", *lib.args, "--ndjson", *extra)
        assert result.code == 0, result.err
        return [json.loads(line)["id"] for line in result.out.splitlines()]

    assert ids("--creator", "bob") == ["dogs/rex"]
    assert ids("--limit", "2") == lib.ids[:2]
    assert ids("--query", "orange") == ["cats/tom"]  # a metadata value, any case
    assert ids("--query", "tag tom") == ["cats/tom"]  # every word must match
    assert ids("--query=-cats") == ["dogs/rex", lib.ids[2]]
    assert ids("--query", "v1") == [lib.ids[2]]  # inside a metadata list
    assert ids("--query", "nothing-like-this") == []


def test_ls_table_fits_the_terminal(run, lib: Where, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    result = run("ls", *lib.args)
    lines = result.out.splitlines()
    assert lines[0].startswith("ID")
    assert len(lines) == 4
    assert all(len(line) <= 60 for line in lines)
    assert "tom.png" in result.out


def test_ls_empty_json_is_an_empty_array(run, tmp_path) -> None:
    result = run("ls", "--library", str(tmp_path / "empty"), "--json")
    assert result.code == 0
    assert result.json() == []


def test_hostile_strings_print_as_escapes(run, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "hostile"

    async def fill() -> None:
        backend = LocalBackend(path)
        await backend.fill_unchecked([("evil\u202egnp", png(), "\x1b]2;X\x07")])
        await backend.aclose()

    asyncio.run(fill())
    monkeypatch.setenv("COLUMNS", "200")
    for argv in (
        ["ls"],
        ["ls", "--json"],
        ["ls", "--ndjson"],
        ["info", "evil\u202egnp"],
        ["info", "evil\u202egnp", "--json"],
    ):
        result = run(*argv, "--library", str(path))
        assert result.code == 0, result.err
        assert "\x1b" not in result.out and "\x07" not in result.out and "\u202e" not in result.out
        assert ("\\x1b]2;X\\x07" in result.out) or ("\\u001b]2;X\\u0007" in result.out)
    assert run("ls", "--library", str(path), "--json").json()[0]["creator"] == "\x1b]2;X\x07"


def test_info_prints_each_found_and_reports_the_missing(run, lib: Where) -> None:
    result = run("info", *lib.args, "cats/tom", "no/such", "dogs/rex")
    assert result.code == 1
    assert "ERROR 5404: no/such:" in result.err
    assert "tom.png" in result.out and "rex.png" in result.out


def test_info_json_object_or_array(run, lib: Where) -> None:
    one = run("info", *lib.args, "cats/tom", "--json")
    assert one.code == 0 and one.json()["creator"] == "alice"
    several = run("info", *lib.args, "cats/tom", "dogs/rex", "--json")
    assert [image["id"] for image in several.json()] == ["cats/tom", "dogs/rex"]
    missing = run("info", *lib.args, "nope", "--json")
    assert missing.code == 1 and missing.out == ""


def test_sign(run, lib: Where) -> None:
    result = run("sign", *lib.args, lib.ids[2], "--expires", "1h", "--variant", "thumbnail")
    assert result.code == 0, result.err
    assert "/thumbnail?exp=" in result.out and "sig=" in result.out
    assert run("sign", *lib.args, "no/such").code == 1
    assert run("sign", *lib.args, lib.ids[2], "--expires", "soon").code == 2
    unknown = run("sign", *lib.args, lib.ids[2], "--key", "other")
    assert unknown.code == 1 and "ERROR 5404" in unknown.err  # the account has no key by that name
    named = run("sign", *lib.args, lib.ids[2], "--key", "default")
    assert named.code == 0 and "sig=" in named.out


def test_ls_query_takes_the_tuis_clauses(run, lib: Where) -> None:
    def ids(query: str) -> list[str]:
        result = run("ls", *lib.args, "--ndjson", "--query", query)
        assert result.code == 0, result.err
        return [json.loads(line)["id"] for line in result.out.splitlines()]

    assert ids("creator:bob") == ["dogs/rex"]  # sent to the server as its creator filter
    assert ids("-creator:bob -cats") == [lib.ids[2]]
    assert ids("private") == [lib.ids[2]]
    assert ids("meta.k:in(v1,zzz)") == [lib.ids[2]]
    assert ids("public creator:bob") == ["dogs/rex"]
    assert ids("uploaded>2999-01-01") == []
    assert ids("creator:bob creator:alice") == []


def test_ls_format_over_an_account_says_it_cannot_know(run, lib: Where) -> None:
    """Cloudflare's API has no format field: over an account `format:png` matched nothing
    (and cost a details call per image) without a word; a local library answers it."""
    result = run("ls", *lib.args, "--ndjson", "--query", "format:png")
    if lib.kind == "local":
        assert result.code == 0 and len(result.out.splitlines()) == 3
    else:
        assert result.code == 1 and result.out == ""
        assert "ERROR 5400: format: needs a local library" in result.err


def test_ls_a_bad_query_says_why_before_any_listing(run, lib: Where) -> None:
    for bad, reason in (
        ("meta.k>=x", "compares numbers"),
        ('"open', "unclosed quote"),
        ("x" * 3000, "at most"),
    ):
        result = run("ls", *lib.args, "--query", bad)
        assert result.code == 2 and result.out == ""
        assert reason in result.err
