"""The probe's questions, in the order they are sent. DA1 goes last: every terminal answers
it, and terminals answer in order, so its reply means every other reply is in."""

from __future__ import annotations

from imgtui.terminal.tmux import wrap

XTVERSION = b"\x1b[>0q"
# A 1x1 RGB query image (a=q: checked, never stored); id 31 is arbitrary.
KITTY_QUERY = b"\x1b_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\x1b\\"
CELL_PIXELS = b"\x1b[16t"
AREA_PIXELS = b"\x1b[14t"
AREA_CELLS = b"\x1b[18t"
DA1 = b"\x1b[c"


def build(*, in_tmux: bool, passthrough: bool) -> bytes:
    """The whole query. Inside tmux the kitty query is sent only through passthrough (never
    bare: tmux would make it the pane title), and XTVERSION is asked of the outer terminal too."""
    parts = [XTVERSION]
    if not in_tmux:
        parts.append(KITTY_QUERY)
    elif passthrough:
        parts += [wrap(XTVERSION), wrap(KITTY_QUERY)]
    parts += [CELL_PIXELS, AREA_PIXELS, AREA_CELLS, DA1]
    return b"".join(parts)
