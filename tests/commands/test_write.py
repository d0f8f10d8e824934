"""`imgtui put`, `edit`, `rm` and `get`, against a local library and `imgtui serve`."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from .conftest import Where, png


@pytest.fixture
def picture(tmp_path: Path) -> Path:
    path = tmp_path / "pic.png"
    path.write_bytes(png((9, 9, 9)))
    return path


def test_put_with_every_option(run, lib: Where, picture: Path) -> None:
    result = run(
        "put", *lib.args, str(picture), "--id", "new/one", "--filename", "named.png",
        "--meta", '{"a": [1, 2]}', "--creator", "carol", "--json",
    )  # fmt: skip
    assert result.code == 0, result.err
    stored = result.json()
    assert stored["id"] == "new/one" and stored["filename"] == "named.png"
    assert stored["meta"] == {"a": [1, 2]} and stored["creator"] == "carol"
    assert run("info", *lib.args, "new/one", "--json").json()["creator"] == "carol"


def test_put_several_private_prints_one_line_each(run, lib: Where, picture: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.png"
    other.write_bytes(png((1, 200, 1)))
    result = run("put", *lib.args, str(picture), str(other), "--private")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert len(lines) == 2 and lines[0].endswith("pic.png") and lines[1].endswith("other.png")
    as_json = run("put", *lib.args, str(picture), str(other), "--json").json()
    assert isinstance(as_json, list) and len(as_json) == 2


def test_put_bad_input_fails_per_item(run, lib: Where, picture: Path, tmp_path: Path) -> None:
    missing = tmp_path / "missing.png"
    not_image = tmp_path / "notes.txt"
    not_image.write_text("hello")
    result = run("put", *lib.args, str(missing), str(picture), str(not_image))
    assert result.code == 1
    assert f"ERROR 5400: {missing}:" in result.err
    assert "notes.txt" in result.err and result.err.count("ERROR ") == 2
    assert result.out.strip().endswith("pic.png")  # the good one was still uploaded


def test_put_unreadable_file(run, lib: Where, picture: Path, tmp_path: Path) -> None:
    # Root reads a file of mode 0, and nobody reads a directory as a file: both are tried.
    picture.chmod(0)
    unreadable = [picture] if os.geteuid() != 0 else []
    for source in [*unreadable, tmp_path]:
        result = run("put", *lib.args, str(source))
        assert result.code == 1 and "ERROR 5400" in result.err and "Cannot read" in result.err


def test_put_bad_meta_and_bad_usage(run, lib: Where, picture: Path) -> None:
    bad_json = run("put", *lib.args, str(picture), "--meta", "{nope")
    assert bad_json.code == 1 and "ERROR 5400: --meta is not valid JSON" in bad_json.err
    not_object = run("put", *lib.args, str(picture), "--meta", "[1]")
    assert not_object.code == 1 and "JSON object" in not_object.err
    deep = run("put", *lib.args, str(picture), "--meta", '{"a":' + "[" * 20_000 + "]" * 20_000 + "}")
    assert deep.code == 1 and "ERROR 5400: --meta is nested too deeply" in deep.err  # not a traceback
    huge = run("put", *lib.args, str(picture), "--meta", '{"a": "' + "x" * 100_000 + '"}')
    assert huge.code == 1 and "ERROR 5400: --meta is 100,009 characters" in huge.err
    two_with_id = run("put", *lib.args, str(picture), str(picture), "--id", "x")
    assert two_with_id.code == 2
    uuid_id = run("put", *lib.args, str(picture), "--id", "2cdc28f0-017a-49c4-9ed7-87056c83901d")
    assert uuid_id.code == 1 and "ERROR 5400" in uuid_id.err
    assert run("put", *lib.args).code == 2  # no source


def test_edit(run, lib: Where) -> None:
    result = run("edit", *lib.args, "cats/tom", "--meta", '{"new": true}', "--creator", "zed", "--json")
    assert result.code == 0, result.err
    assert result.json()["meta"] == {"new": True} and result.json()["creator"] == "zed"
    private = run("edit", *lib.args, lib.ids[2], "--public")
    assert private.code == 0
    assert run("info", *lib.args, lib.ids[2], "--json").json()["requireSignedURLs"] is False


def test_edit_bad_input(run, lib: Where) -> None:
    assert run("edit", *lib.args, "cats/tom").code == 2  # nothing to change
    assert run("edit", *lib.args, "cats/tom", "--private", "--public").code == 2
    missing = run("edit", *lib.args, "no/such", "--creator", "x")
    assert missing.code == 1 and "ERROR 5404" in missing.err
    bad = run("edit", *lib.args, "cats/tom", "--meta", "nope")
    assert bad.code == 1 and "ERROR 5400" in bad.err
    custom_private = run("edit", *lib.args, "cats/tom", "--private")
    assert custom_private.code == 1 and "ERROR 5410" in custom_private.err


def test_rm_needs_yes_without_a_terminal(run, lib: Where, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    refused = run("rm", *lib.args, "cats/tom")
    assert refused.code == 2 and "--yes" in refused.err
    assert run("info", *lib.args, "cats/tom").code == 0


def test_rm_deletes_and_reports_the_unknown(run, lib: Where) -> None:
    result = run("rm", *lib.args, "cats/tom", "no/such", "dogs/rex", "--yes")
    assert result.code == 1
    assert "ERROR 5404: no/such:" in result.err
    assert result.out.splitlines() == ["deleted cats/tom", "deleted dogs/rex"]
    assert run("ls", *lib.args, "--ndjson").out.count("\n") == 1


def test_get_to_a_file_a_folder_and_without_force(run, lib: Where, tmp_path: Path) -> None:
    target = tmp_path / "one.png"
    result = run("get", *lib.args, "cats/tom", "-o", str(target))
    assert result.code == 0, result.err
    assert target.read_bytes() == png((1, 2, 3))
    again = run("get", *lib.args, "cats/tom", "-o", str(target))
    assert again.code == 1 and "ERROR 5409" in again.err and "--force" in again.err
    assert run("get", *lib.args, "cats/tom", "-o", str(target), "--force").code == 0
    folder = tmp_path / "out"
    many = run("get", *lib.args, "cats/tom", "dogs/rex", "no/such", "-o", str(folder))
    assert many.code == 1 and "ERROR 5404: no/such:" in many.err
    assert sorted(p.name for p in folder.iterdir()) == ["rex.png", "tom.png"]
    one_in_new_folder = run("get", *lib.args, "cats/tom", "-o", str(tmp_path / "new") + "/")
    assert one_in_new_folder.code == 0 and (tmp_path / "new" / "tom.png").exists()


def test_get_into_a_missing_folder_is_bad_usage(run, lib: Where, tmp_path: Path) -> None:
    result = run("get", *lib.args, "cats/tom", "-o", str(tmp_path / "no" / "such" / "file.png"))
    assert result.code == 2


@pytest.fixture
def dead_server(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Options naming an API where nothing listens (a port bound, then closed again)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "t")
    return ["--endpoint", f"http://127.0.0.1:{port}/client/v4", "--account-id", "acc"]


@pytest.mark.parametrize(
    "argv",
    [
        ["info", "a", "b"],
        ["put", "PICTURE"],
        ["edit", "a", "--creator", "x"],
        ["rm", "a", "--yes"],
        ["get", "a"],
        ["sign", "a"],
    ],
)
def test_a_dead_server_is_a_failed_operation(
    run, dead_server: list[str], picture: Path, argv: list[str]
) -> None:
    argv = [str(picture) if arg == "PICTURE" else arg for arg in argv]
    result = run(*argv, *dead_server)
    assert result.code == 1, result.err
    assert "ERROR 9000:" in result.err and "Traceback" not in result.err
    if argv[0] == "info":
        assert result.err.count("ERROR 9000") == 2  # per item


def test_two_libraries_at_once_is_bad_usage(run, tmp_path: Path) -> None:
    result = run("ls", "--library", str(tmp_path), "--endpoint", "http://127.0.0.1:1/client/v4")
    assert result.code == 2 and "--library" in result.err
