"""parse_drop against what real terminals type on a drop (textual-notes §4), on real files."""

from __future__ import annotations

import base64
import os
import shlex
from pathlib import Path
from urllib.parse import quote

import pytest

from imgtui.workflows import dropparse
from imgtui.workflows.dropparse import (
    MAX_DROP_CHARS,
    MAX_PROBLEMS,
    is_image_file,
    looks_like_paths,
    parse_drop,
)

PNG_HEAD = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """Images with awkward names, a non-image, a folder of images and an empty folder."""
    names = {
        "plain": "plain.png",
        "space": "My Pic.png",
        "quote": "it's here.jpg",
        "unicode": "café ☕ 日本.webp",
        "meta": "a&b (1) $x;[y].gif",
        "double": 'say "hi".png',
    }
    made = {}
    for key, name in names.items():
        path = tmp_path / name
        path.write_bytes(PNG_HEAD)
        made[key] = path
    noext = tmp_path / "no_extension_png"
    noext.write_bytes(PNG_HEAD)
    made["noext"] = noext
    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    made["text"] = text
    b64 = tmp_path / "encoded.b64"
    b64.write_text(base64.b64encode(PNG_HEAD).decode())
    made["b64"] = b64
    folder = tmp_path / "album"
    folder.mkdir()
    for name in ("b.png", "a.JPG", ".hidden.png", "readme.md"):
        (folder / name).write_bytes(PNG_HEAD if not name.endswith(".md") else b"# hi")
    nested = folder / "nested"
    nested.mkdir()
    (nested / "deep.png").write_bytes(PNG_HEAD)
    made["folder"] = folder
    empty = tmp_path / "empty"
    empty.mkdir()
    made["empty"] = empty
    return made


def vte(path: Path) -> str:
    """GNOME Terminal: g_shell_quote (always single quotes, ' as '\\'') plus a trailing space."""
    return "'" + str(path).replace("'", "'\\''") + "' "


def backslashed(path: Path) -> str:
    """iTerm2 / Ghostty / WezTerm: backslash before spaces and shell metacharacters."""
    return "".join("\\" + ch if ch in " '\"&()$;[]\\!*?<>|`#~{}" else ch for ch in str(path))


def uri(path: Path, host: str = "") -> str:
    return f"file://{host}" + quote(str(path))


AWKWARD = ["plain", "space", "quote", "unicode", "meta", "double"]


@pytest.mark.parametrize("key", AWKWARD)
def test_gnome_terminal_single_quotes(files, key):
    assert parse_drop(vte(files[key])).files == [files[key]]


def test_gnome_terminal_several_files_on_one_line(files):
    text = "".join(vte(files[key]) for key in AWKWARD)
    result = parse_drop(text)
    assert result.files == [files[key] for key in AWKWARD]
    assert result.problems == []


@pytest.mark.parametrize("key", AWKWARD)
def test_backslash_escapes_iterm_ghostty_wezterm(files, key):
    assert parse_drop(backslashed(files[key])).files == [files[key]]


def test_backslash_escapes_several(files):
    text = " ".join(backslashed(files[key]) for key in AWKWARD)
    assert parse_drop(text).files == [files[key] for key in AWKWARD]


def test_kitty_raw_paths_one_per_line(files):
    text = "\n".join(str(files[key]) for key in AWKWARD) + "\n"
    result = parse_drop(text)
    assert result.files == [files[key] for key in AWKWARD]
    assert result.problems == []


def test_crlf_line_endings_and_nuls(files):
    text = f"{files['space']}\r\n{files['unicode']}\r\n\x00"
    assert parse_drop(text).files == [files["space"], files["unicode"]]


def test_double_quotes_windows_terminal_style(files):
    text = f'"{files["space"]}" "{files["unicode"]}" {files["plain"]}'
    assert parse_drop(text).files == [files["space"], files["unicode"], files["plain"]]


def test_alacritty_unescaped_spaces_are_rejoined(files):
    text = f"{files['space']} {files['plain']} {files['quote']} "
    result = parse_drop(text)
    assert result.files == [files["space"], files["plain"], files["quote"]]


@pytest.mark.parametrize("host", ["", "localhost"])
def test_file_uris_percent_decoded(files, host):
    text = "\n".join(uri(files[key], host) for key in ("space", "unicode", "meta"))
    assert parse_drop(text).files == [files["space"], files["unicode"], files["meta"]]


def test_quoted_file_uri(files):
    assert parse_drop(vte(Path(uri(files["space"])))).files == [files["space"]]


def test_remote_file_uri_is_a_problem(files):
    result = parse_drop("file://otherhost/tmp/x.png sftp://host/pic.png")
    assert result.files == []
    assert len(result.problems) == 2
    assert all("not a file on this computer" in problem for problem in result.problems)


def test_http_urls_are_kept_apart(files):
    result = parse_drop(f"https://example.com/cat.png {vte(files['plain'])}")
    assert result.urls == ["https://example.com/cat.png"]
    assert result.files == [files["plain"]]
    assert not result.empty


def test_duplicates_removed_order_kept(files, tmp_path):
    text = f"{files['space']}\n{files['plain']}\n{vte(files['space'])}\n{uri(files['plain'])}"
    text += f"\n{tmp_path / 'album' / '..' / 'plain.png'}"
    assert parse_drop(text).files == [files["space"], files["plain"]]


def test_directory_expands_to_its_images_not_recursively(files):
    result = parse_drop(vte(files["folder"]))
    assert [path.name for path in result.files] == ["a.JPG", "b.png"]
    assert result.problems == []


def test_empty_directory_is_a_problem(files):
    result = parse_drop(vte(files["empty"]))
    assert result.files == []
    assert result.problems == [f"{files['empty']}: folder has no images"]


def test_non_image_and_missing_files_are_problems(files, tmp_path):
    missing = tmp_path / "gone.png"
    result = parse_drop(f"{vte(files['text'])}{vte(missing)}{vte(files['plain'])}")
    assert result.files == [files["plain"]]
    assert result.problems == [f"{files['text']}: not an image", f"{missing}: no such file"]


def test_sniffs_images_without_an_extension(files):
    assert parse_drop(str(files["noext"])).files == [files["noext"]]


def test_base64_file_is_sniffed_after_decoding(files, tmp_path):
    assert parse_drop(str(files["b64"])).files == [files["b64"]]
    bogus = tmp_path / "bogus.b64"
    bogus.write_text(base64.b64encode(b"hello, not an image at all").decode())
    assert parse_drop(str(bogus)).problems == [f"{bogus}: not an image"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads anything")
def test_unreadable_file_is_a_problem(tmp_path):
    secret = tmp_path / "secret"
    secret.write_bytes(PNG_HEAD)
    secret.chmod(0)
    try:
        result = parse_drop(str(secret))
    finally:
        secret.chmod(0o600)
    assert result.files == []
    assert result.problems == [f"{secret}: permission denied"]


def test_relative_paths_resolve_against_cwd(files, tmp_path):
    assert parse_drop("'My Pic.png'", cwd=tmp_path).files == [tmp_path / "My Pic.png"]


def test_tilde_expands(files, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert parse_drop("~/plain.png").files == [files["plain"]]


@pytest.mark.parametrize(
    "text",
    ["", "   \n\t ", "hello world, this is just some text", "x" * 100_000, "\x00\x00"],
)
def test_text_naming_no_file(text):
    result = parse_drop(text)
    assert result.files == [] and result.urls == []
    assert result.problems == ["The pasted text does not name any file"]


@pytest.mark.parametrize("text", ["'unbalanced /tmp/x.png", 'a "b', "\\", "/tmp/\x00bad.png", "%%%://"])
def test_garbage_never_raises(text):
    result = parse_drop(text)
    assert result.files == []
    assert result.problems


def test_problems_are_capped(tmp_path):
    text = "\n".join(f"/nowhere/missing{i}.png" for i in range(50))
    result = parse_drop(text)
    assert len(result.problems) == MAX_PROBLEMS
    assert result.problems[-1] == f"… and {50 - MAX_PROBLEMS + 1} more"


def test_shell_quoted_round_trip(files):
    # What kitty sends at a shell prompt (shlex-quoted, space-joined) also works.
    text = " ".join(shlex.quote(str(files[key])) for key in AWKWARD)
    assert parse_drop(text).files == [files[key] for key in AWKWARD]


def test_is_image_file_by_extension_or_signature(files):
    assert is_image_file(files["plain"])
    assert is_image_file(files["noext"])
    assert not is_image_file(files["text"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("'/home/u/a.png' ", True),
        ("/home/u/a.png", True),
        ("file:///x.png", True),
        ("https://e.com/a.png", True),
        ('"C:\\Users\\a.png"', True),
        ("~/a.png", True),
        ("hello", False),
        ("", False),
    ],
)
def test_looks_like_paths(text, expected):
    assert looks_like_paths(text) is expected


def test_fifo_is_not_a_regular_file(tmp_path):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    assert parse_drop(str(fifo)).problems == [f"{fifo}: not a regular file"]


def test_windows_paths_on_posix_name_nothing_but_do_not_raise():
    result = parse_drop('"C:\\Users\\me\\My Pic.png" C:\\x.png')
    assert result.files == []
    assert any("My Pic.png" in problem for problem in result.problems)


def test_an_oversized_paste_is_refused_before_splitting(monkeypatch, tmp_path):
    """Issue 9, finding 6: a 10 MB paste is refused at once, without a split or a stat."""
    import time

    def no_split(line: str) -> list[list[str]]:
        raise AssertionError("an oversized paste must not be split")

    monkeypatch.setattr(dropparse, "_tokenizations", no_split)
    start = time.perf_counter()
    result = parse_drop("/tmp/no such file.png " * 500_000, cwd=tmp_path)  # 11 MB
    assert time.perf_counter() - start < 0.05
    assert result.empty
    assert f"{MAX_DROP_CHARS:,}" in result.problems[0]


def test_a_drop_at_the_cap_is_still_parsed(files, tmp_path):
    text = (str(files["plain"]) + "\n") * (MAX_DROP_CHARS // (len(str(files["plain"])) + 1))
    assert len(text) <= MAX_DROP_CHARS
    assert parse_drop(text, cwd=tmp_path).files == [files["plain"]]
