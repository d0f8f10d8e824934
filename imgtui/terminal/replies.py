"""Parse what a terminal sent back to the probe's queries.

The replies (https://invisible-island.net/xterm/ctlseqs/ctlseqs.html):
    XTVERSION  DCS > | name(version) ST       e.g. ESC P > | kitty(0.26.5) ESC \\
    DA1        CSI ? Pp ; ... c               e.g. ESC [ ? 62 ; 4 ; 22 c   (4 = Sixel)
    kitty      APC G i=ID ; OK ST             https://sw.kovidgoyal.net/kitty/graphics-protocol/
    CSI 16 t   CSI 6 ; height ; width t       the cell size in pixels
    CSI 14 t   CSI 4 ; height ; width t       the text area in pixels
    CSI 18 t   CSI 8 ; rows ; columns t       the text area in cells
Anything else (a key typed during the probe) is kept as `other`, never replayed as input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_XTVERSION = re.compile(rb"\x1bP>\|(.*?)\x1b\\", re.DOTALL)
_DA1 = re.compile(rb"\x1b\[\?([0-9;]*)c")
_KITTY = re.compile(rb"\x1b_G(.*?)\x1b\\", re.DOTALL)
_WINDOW_OP = re.compile(rb"\x1b\[(4|6|8);(\d+);(\d+)t")


def has_da1(data: bytes) -> bool:
    """Whether `data` holds a DA1 reply: the probe's last question, so its end."""
    return _DA1.search(data) is not None


@dataclass(slots=True)
class Replies:
    """Everything the terminal answered, by kind; None where it said nothing."""

    versions: list[str] = field(default_factory=list)  # XTVERSION texts, in arrival order
    da1: tuple[int, ...] | None = None
    kitty: str | None = None  # "OK" or the error text of the graphics query
    cell_px: tuple[int, int] | None = None  # (width, height) of one cell
    area_px: tuple[int, int] | None = None  # (width, height) of the text area
    area_cells: tuple[int, int] | None = None  # (columns, rows)
    other: bytes = b""

    @property
    def answered(self) -> bool:
        return self.da1 is not None


def parse(data: bytes) -> Replies:
    replies = Replies()
    spans: list[tuple[int, int]] = []
    for match in _XTVERSION.finditer(data):
        replies.versions.append(match.group(1).decode("utf-8", "replace"))
        spans.append(match.span())
    for match in _DA1.finditer(data):
        # The last DA1 wins: in tmux it is tmux's own answer (the outer one is never asked).
        replies.da1 = tuple(int(part) for part in match.group(1).split(b";") if part.isdigit())
        spans.append(match.span())
    for match in _KITTY.finditer(data):
        _, _, status = match.group(1).decode("ascii", "replace").partition(";")
        replies.kitty = status
        spans.append(match.span())
    for match in _WINDOW_OP.finditer(data):
        kind, first, second = match.group(1), int(match.group(2)), int(match.group(3))
        if first > 0 and second > 0:
            if kind == b"6":
                replies.cell_px = (second, first)
            elif kind == b"4":
                replies.area_px = (second, first)
            else:
                replies.area_cells = (second, first)
        spans.append(match.span())
    kept = bytearray()
    position = 0
    for start, end in sorted(spans):
        kept += data[position:start]
        position = max(position, end)
    kept += data[position:]
    replies.other = bytes(kept)
    return replies
