"""Issue 14, narrow terminals: ids cut in the middle, and `i` gives the list the whole width."""

from __future__ import annotations

from pathlib import Path

from rich.cells import cell_len

from imgtui.service import Images
from imgtui.ui.app import ImgTuiApp
from imgtui.ui.config import load_config
from imgtui.ui.widgets.table_layout import fit_cell, fit_middle, layout_columns

UUID = "3d382404-0e5f-4a1b-9c1d-7f2a12345678"


def test_a_cut_id_keeps_both_ends():
    assert fit_middle(UUID, 13) == "3d3824…345678"
    assert fit_middle("products/shoes/red-sneaker.png", 15).endswith("sneaker.png"[-7:])
    assert fit_middle("short", 8) == "short   "
    assert fit_cell("filename", "a-long-file-name.png", 8) == "a-long-…"


def test_a_cut_keeps_the_width_with_wide_characters():
    for width in range(1, 12):
        assert cell_len(fit_middle("日本語のファイル名です.png", width)) == width
        assert cell_len(fit_middle(UUID, width)) == width


def test_eighty_columns_without_the_panel_show_the_creator_and_longer_ids():
    beside_panel = layout_columns(46)
    whole_width = layout_columns(78)
    assert beside_panel.creator == 0
    assert whole_width.creator > 0 and whole_width.id > 2 * beside_panel.id - 6


async def _wait(pilot, predicate, within: float = 10.0) -> None:
    for _ in range(int(within / 0.05)):
        if predicate():
            return
        await pilot.pause(0.05)
    raise AssertionError("timed out waiting for the app")


async def test_i_hides_the_details_panel_and_the_list_takes_the_width(tmp_path: Path):
    images = Images.local(tmp_path / "library", new_id=lambda: UUID)
    await images.hosted.upload(
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
        b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;",
        filename="one.gif",
        creator="alice",
    )
    app = ImgTuiApp(images, preview_mode="off")
    async with app.run_test(size=(80, 24)) as pilot:
        main = app.main_screen
        assert main is not None
        table = main.table
        details = main.query_one("#details")
        await _wait(pilot, lambda: UUID[:6] in table.render_line(1).text)
        narrow_width = table.size.width
        assert details.display and "CREATOR" not in table.render_line(0).text
        await pilot.press("i")
        await _wait(pilot, lambda: table.size.width > narrow_width)
        assert not details.display or details.size.width == 0
        assert table.size.width >= 74
        assert "CREATOR" in table.render_line(0).text
        assert "alice" in table.render_line(1).text
        await _wait(pilot, lambda: load_config().details_shown is False)
    # The choice is kept: the next start opens without the panel, and `i` brings it back.
    app = ImgTuiApp(images, preview_mode="off")
    async with app.run_test(size=(80, 24)) as pilot:
        main = app.main_screen
        assert main is not None
        await _wait(pilot, lambda: UUID[:6] in main.table.render_line(1).text)
        assert main.has_class("-no-details")
        await pilot.press("i")
        await _wait(pilot, lambda: main.query_one("#details").size.width > 0)
        assert not main.has_class("-no-details")
