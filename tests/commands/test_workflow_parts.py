"""The pure parts under the commands: library choice, queries, output, id maps, progress."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from imgtui.commands.base import parse_duration
from imgtui.commands.console import Console
from imgtui.service import ImageMetadata
from imgtui.workflows.copy import IdMap, refusal
from imgtui.workflows.libraries import LibraryChoice, LibraryOptions, choose_library
from imgtui.workflows.output import LIST_COLUMNS, cell_width, column_widths, fit, json_text, table_line


def image(**fields: object) -> ImageMetadata:
    return ImageMetadata.model_validate({"id": "x", "uploaded": datetime(2026, 1, 2, tzinfo=UTC), **fields})


def test_choose_library_like_the_tui(tmp_path: Path) -> None:
    assert choose_library(LibraryOptions(library=tmp_path), {}) == LibraryChoice("local", str(tmp_path))
    assert choose_library(LibraryOptions(wrangler="."), {}).spec == "wrangler:."
    env = {"CLOUDFLARE_ACCOUNT_ID": "acc"}
    assert choose_library(LibraryOptions(), env) == LibraryChoice("cloudflare", "acc")
    # A token alone still means Cloudflare (the missing account is reported, not guessed).
    assert choose_library(LibraryOptions(), {"CLOUDFLARE_API_TOKEN": "t"}).kind == "cloudflare"
    chosen = choose_library(LibraryOptions(account_id="a", endpoint="http://h/client/v4"), {})
    assert chosen == LibraryChoice("cloudflare", "a", "http://h/client/v4")
    assert choose_library(LibraryOptions(library=tmp_path), env).kind == "local"  # an explicit path wins
    assert choose_library(LibraryOptions(), {}).kind == "local"
    for clash in (
        LibraryOptions(library=tmp_path, wrangler="."),
        LibraryOptions(wrangler=".", account_id="a"),
    ):
        with pytest.raises(ValueError):
            choose_library(clash, {})


def test_output_fits_and_escapes() -> None:
    assert fit("abcdef", 4) == "abc…"
    assert fit("ab", 4) == "ab  "
    assert cell_width("猫猫") == 4 and cell_width(fit("猫猫猫", 5)) == 5
    line = table_line(["\x1b]2;X\x07", "b"], [12, 3])
    assert "\x1b" not in line and line.startswith("\\x1b]2;X\\x07")
    assert json_text({"c": "\x1b\u202e"}) == '{"c": "\\u001b\\u202e"}'
    for width in (40, 80, 120, 300):
        widths = column_widths(LIST_COLUMNS, width)
        assert sum(widths) + 2 * (len(widths) - 1) <= max(width, 53)
        assert widths[0] <= 36


def test_id_maps_round_trip(tmp_path: Path) -> None:
    for name in ("ids.csv", "ids.json", "ids.txt"):
        path = tmp_path / name
        first = IdMap(path)
        first.record("old-1", "new-1")
        first.record("old,2", "new-2")  # CSV quoting
        first.save()
        again = IdMap(path)
        assert again.get("old-1") == "new-1" and again.get("old,2") == "new-2" and len(again) == 2
    (tmp_path / "bad.csv").write_text("a,b,c\n")
    with pytest.raises(ValueError):
        IdMap(tmp_path / "bad.csv")


def test_refusals_are_cloudflares_rules() -> None:
    assert refusal(image(id="ok/id", filename="a.png")) is None
    assert refusal(image(id="ok/id", creator="\x1b[2J")) is not None
    assert refusal(image(id="custom", requireSignedURLs=True)).code == 5410  # type: ignore[union-attr]
    assert refusal(image(id="2cdc28f0-017a-49c4-9ed7-87056c83901d", requireSignedURLs=True)) is None
    assert refusal(image(id="a", meta={"k": "x" * 2000})).code == 5400  # type: ignore[union-attr]


def test_durations() -> None:
    assert parse_duration("3600") == 3600
    assert parse_duration("1h30m") == 5400
    assert parse_duration("7d") == 7 * 86400
    for bad in ("", "0", "soon", "1x", "-5"):
        with pytest.raises(Exception):  # noqa: B017 - argparse's ArgumentTypeError
            parse_duration(bad)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_on_a_terminal() -> None:
    piped_err = io.StringIO()
    piped = Console(io.StringIO(), piped_err)
    piped.progress("1/2")
    piped.end_progress()
    assert piped_err.getvalue() == ""
    terminal_err = _Terminal()
    shown = Console(io.StringIO(), terminal_err)
    shown.progress("1/2")
    shown.error(5404, "Image not found", "x")
    assert terminal_err.getvalue() == "\r\x1b[K1/2\r\x1b[KERROR 5404: x: Image not found\n"
    assert shown.summary() == "1 failed"


def test_open_library_fills_credentials_only_for_loopback() -> None:
    from imgtui.service import ImagesError
    from imgtui.workflows.libraries import is_loopback_endpoint, open_library

    assert is_loopback_endpoint("http://127.0.0.1:8788/client/v4")
    assert is_loopback_endpoint("http://localhost:1/client/v4") and is_loopback_endpoint("http://[::1]:2/")
    assert not is_loopback_endpoint("https://api.cloudflare.com/client/v4")
    local = LibraryChoice("cloudflare", "", "http://127.0.0.1:8788/client/v4")
    assert "127.0.0.1:8788" in open_library(local, environ={}).label
    remote = LibraryChoice("cloudflare", "", "https://api.example.com/client/v4")
    with pytest.raises(ImagesError):
        open_library(remote, environ={})
