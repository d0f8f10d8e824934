"""`imgtui --wrangler DIR`: the TUI opens wrangler dev's images read-only."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from imgtui.ui.app import ImgTuiApp
from imgtui.ui.cli import build_parser, main, open_images
from imgtui.ui.widgets.image_table import ImageTable


def test_the_option_opens_the_project_read_only(project: Path) -> None:
    images = open_images(build_parser().parse_args(["--wrangler", str(project)]))
    assert "wrangler" in images.label and "read-only" in images.label


def test_the_option_defaults_to_the_current_folder(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    args = build_parser().parse_args(["--wrangler"])
    assert args.wrangler == "." and "wrangler" in open_images(args).label


@pytest.mark.parametrize("other", [["--library", "x"], ["--demo"], ["--endpoint", "http://127.0.0.1:1"]])
def test_it_does_not_combine_with_another_library(
    other: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--wrangler", ".", *other])
    assert exited.value.code == 2 and "--wrangler" in capsys.readouterr().err


async def test_the_tui_lists_the_images_and_refuses_a_delete(project: Path, expected: dict[str, Any]) -> None:
    app = ImgTuiApp(open_images(build_parser().parse_args(["--wrangler", str(project)])), preview_mode="off")
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.screen.query_one(ImageTable)
        deadline = time.monotonic() + 10
        while table.load_state != "complete":
            assert time.monotonic() < deadline, "the list never completed"
            await pilot.pause(0.05)
        assert table.loaded_count == len(expected["list"]["images"])
        await pilot.press("d")  # delete: the confirmation, then the refusal on the form
        await pilot.pause(0.3)
        await pilot.press("y")
        deadline = time.monotonic() + 10
        while "read-only" not in app.export_screenshot():
            assert time.monotonic() < deadline, "no read-only message"
            await pilot.pause(0.05)
        assert app.is_running and table.loaded_count == len(expected["list"]["images"])
