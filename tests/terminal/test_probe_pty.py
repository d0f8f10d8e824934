"""Issue 15: the probe in a pseudo-terminal whose other end answers like real terminals, on
time, 150 ms late (SSH), 500 ms late, or never. Checks the mode chosen, that no reply is left
for the app to read as keys, and what is written inside tmux. Bounded: well under 60 s."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.terminal.harness import run
from tests.terminal.personas import (
    FOOT,
    KITTY_NEW,
    KITTY_OLD,
    MLTERM,
    SILENT,
    TMUX,
    TMUX_IN_KITTY,
    TMUX_IN_OLD_KITTY,
    XTERM,
    Persona,
)

EXPECTED: list[tuple[Persona, str]] = [
    (XTERM, "sixel"),
    (KITTY_OLD, "halfcell"),  # answers the graphics query, but has no unicode placeholders
    (KITTY_NEW, "tgp"),
    (FOOT, "sixel"),
    (MLTERM, "sixel"),
    (TMUX, "halfcell"),
]
DELAYS = [0.0, 0.15, 0.5]


@pytest.mark.parametrize("delay", DELAYS, ids=lambda d: f"{int(d * 1000)}ms")
@pytest.mark.parametrize(("persona", "mode"), EXPECTED, ids=lambda p: getattr(p, "name", p))
def test_the_mode_fits_the_terminal_and_nothing_leaks(
    persona: Persona, mode: str, delay: float, tmp_path: Path
):
    outcome = run(persona, delay, tmp_path)
    assert outcome.mode == mode, outcome.describe
    assert outcome.leaked == ""  # every reply consumed by the probe, none read as keys
    assert outcome.elapsed < delay + 0.6  # DA1 ends the wait, not the timeout
    assert sum(q == b"\x1b[c" for q in outcome.queries) == 1  # asked once, by us


def test_a_silent_terminal_gets_half_cell_within_the_time_limit(tmp_path: Path):
    outcome = run(SILENT, 0.0, tmp_path)
    assert outcome.mode == "halfcell"
    assert outcome.elapsed < 1.5
    assert any("no DA1 reply" in line for line in outcome.describe)


def test_the_cell_size_comes_from_the_terminal(tmp_path: Path):
    assert run(FOOT, 0.0, tmp_path).cell == [8, 17]
    assert run(MLTERM, 0.0, tmp_path).cell == [10, 20]  # said nothing: the VT340 default


def test_inside_tmux_without_passthrough_no_kitty_query_is_sent(tmp_path: Path):
    outcome = run(TMUX, 0.15, tmp_path)
    assert outcome.titles == []  # tmux would have made the query the pane title
    assert b"\x1b_G" not in outcome.written and b"\x1bPtmux;" not in outcome.written
    assert any("allow-passthrough off" in line for line in outcome.describe)
    assert any("set -g allow-passthrough on" in line for line in outcome.describe)


def test_inside_tmux_with_passthrough_the_outer_kitty_is_asked_wrapped(tmp_path: Path):
    outcome = run(TMUX_IN_KITTY, 0.15, tmp_path)
    assert outcome.titles == []
    assert b"\x1bPtmux;\x1b\x1b_G" in outcome.written  # the query, wrapped with its ESCs doubled
    assert outcome.leaked == ""
    assert any("kitty 0.35.2" in line for line in outcome.describe)
    old = run(TMUX_IN_OLD_KITTY, 0.15, tmp_path)
    assert old.mode == "halfcell" and old.leaked == ""


@pytest.mark.parametrize(
    ("persona", "asked", "mode"),
    [(XTERM, "tgp", "sixel"), (KITTY_NEW, "sixel", "tgp"), (XTERM, "halfcell", "halfcell")],
)
def test_a_forced_mode_the_terminal_cannot_draw_is_refused_with_a_warning(
    persona: Persona, asked: str, mode: str, tmp_path: Path
):
    outcome = run(persona, 0.0, tmp_path, asked=asked)
    assert outcome.mode == mode
    assert (outcome.warning is not None) == (asked != mode)


# Through textual-image (0.12 on Python 3.11, 0.14 on 3.12): it must not probe again.
@pytest.mark.parametrize(
    ("persona", "mode"), [*EXPECTED, (SILENT, "halfcell")], ids=lambda p: getattr(p, "name", p)
)
def test_textual_image_is_told_and_never_probes(persona: Persona, mode: str, tmp_path: Path):
    outcome = run(persona, 0.15, tmp_path, textual_image=True)
    assert outcome.mode == mode, outcome.describe
    assert outcome.leaked == ""
    assert outcome.titles == []
    assert outcome.written.count(b"\x1b[c") == 1


def test_the_full_app_on_a_slow_xterm_draws_sixel_and_never_opens_help_by_itself(tmp_path: Path):
    """xterm answering 150 ms late: textual-image 0.12's own probe gave up after 100 ms and
    the late DA1 (`?63;...c`) reached the app as keys: `?` opened the help screen."""
    from tests.terminal.harness import run_app

    outcome = run_app(XTERM, 0.15, tmp_path, wait_for=rb"\x1bP[0-9;]*q")
    assert b"FILENAME" in outcome.written  # the list is up
    assert b"imgtui help" not in outcome.written
    assert re.search(rb"\x1bP[0-9;]*q", outcome.written)  # a Sixel picture was drawn
    assert outcome.written.count(b"\x1b[c") == 1
    assert outcome.returncode == 0


SIXEL_START = re.compile(rb"\x1bP[0-9;]*q")


@pytest.mark.parametrize("persona", [XTERM, MLTERM], ids=lambda p: p.name)
def test_every_new_picture_is_painted_once(persona: Persona, tmp_path: Path):
    """Each repaint of a Sixel picture writes blank cells over it, then the picture: two
    paints for one change is the blink xterm and mlterm showed. The cursor walks down the
    demo list (pictures of different shapes, so the image widget is resized each time):
    exactly one Sixel image per new picture, never none."""
    from tests.terminal.harness import run_app

    outcome = run_app(persona, 0.0, tmp_path, wait_for=rb"\x1bP[0-9;]*q", keys=b"jjjjjj", key_pause=0.9)
    per_key = [
        len(SIXEL_START.findall(outcome.written[start:end]))
        for start, end in zip(outcome.marks, outcome.marks[1:], strict=False)
    ]
    # The first j lands on the demo's SVG (rasterised by resvg), the others on rasters.
    assert per_key == [1] * 6
    assert outcome.returncode == 0
