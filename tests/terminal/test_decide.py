"""The renderer decision from a terminal's replies (no pty: the replies are given)."""

from __future__ import annotations

from imgtui.terminal.decide import decide
from imgtui.terminal.replies import Replies


def test_a_terminal_without_unicode_placeholders_never_gets_tgp() -> None:
    """Konsole answers the kitty graphics query OK, but textual-image's TGP needs unicode
    placeholders it does not draw: every grid cell showed placeholder glyphs."""
    konsole = decide(Replies(versions=["Konsole 22.12.3"], da1=(62, 4), kitty="OK"))
    assert "tgp" not in konsole.can_draw and konsole.mode == "sixel"
    assert any("no unicode placeholders" in reason for reason in konsole.reasons)
    forced = decide(Replies(versions=["Konsole 22.12.3"], da1=(62,), kitty="OK"), asked="tgp")
    assert forced.mode != "tgp" and forced.warning
    kitty = decide(Replies(versions=["kitty(0.32.2)"], da1=(62,), kitty="OK"))
    assert kitty.mode == "tgp"
