"""The list's state markers: plain glyphs every terminal font has by default, emoji by a
setting, and both fit the fixed columns (the row keeps its width either way)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from rich.cells import cell_len

from imgtui.ui.widgets import table_layout
from imgtui.ui.widgets.table_layout import EMOJI_GLYPHS, LOCK_WIDTH, MARK_WIDTH, PLAIN_GLYPHS, fit


@pytest.fixture(autouse=True)
def _plain_after() -> Iterator[None]:
    yield
    table_layout.use_emoji_glyphs(False)


def test_the_default_markers_are_in_every_font():
    assert table_layout.glyphs() == PLAIN_GLYPHS
    # WGL4 (the glyph set every terminal font covers), never an emoji
    for glyph in (PLAIN_GLYPHS.lock, PLAIN_GLYPHS.mark):
        assert ord(glyph) < 0x2600 and cell_len(glyph) == 1


def test_the_emoji_set_is_a_setting_and_back():
    table_layout.use_emoji_glyphs(True)
    assert table_layout.LOCK_GLYPH == "🔒" and table_layout.glyphs() == EMOJI_GLYPHS
    table_layout.use_emoji_glyphs(False)
    assert table_layout.glyphs() == PLAIN_GLYPHS


@pytest.mark.parametrize("chosen", [PLAIN_GLYPHS, EMOJI_GLYPHS])
def test_every_marker_fits_its_column(chosen):
    assert cell_len(chosen.lock) <= LOCK_WIDTH and cell_len(fit(chosen.lock, LOCK_WIDTH)) == LOCK_WIDTH
    assert cell_len(chosen.mark + " ") <= MARK_WIDTH
