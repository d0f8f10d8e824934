"""Half-cell pictures as Strips, the same pixels textual-image's half-cell renderer draws
(`▀` with the upper pixel as its colour and the lower one as its background, after the same
`resize`), made with a fraction of the objects.

The grid renders dozens of pictures per page in a thread that shares the GIL with the event
loop: textual-image builds a Style, two Colors and a Segment per cell (~4 ms for a 16x7
picture); here equal neighbours share a Segment and every colour pair one Style from a
bounded cache, so a page costs the loop less time and the collector fewer objects.
"""

from __future__ import annotations

from PIL import Image as PILImage
from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

STYLE_CACHE_ENTRIES = 65_536  # colour pairs; emptied when full (a photo has many)
_styles: dict[int, Style] = {}


def _style(pair: int) -> Style:
    style = _styles.get(pair)
    if style is None:
        if len(_styles) >= STYLE_CACHE_ENTRIES:
            _styles.clear()
        top, bottom = pair >> 24, pair & 0xFFFFFF
        style = _styles[pair] = Style(
            color=Color.from_rgb(top >> 16, (top >> 8) & 0xFF, top & 0xFF),
            bgcolor=Color.from_rgb(bottom >> 16, (bottom >> 8) & 0xFF, bottom & 0xFF),
        )
    return style


def halfcell_strips(image: PILImage.Image, width: int, height: int) -> list[Strip]:
    """`image` drawn in `width` x `height` cells (two pixel rows per cell row)."""
    width, height = max(1, width), max(1, height)
    raw = image.convert("RGB").resize((width, height * 2)).tobytes()
    stride = width * 3
    strips = []
    for row in range(height):
        upper = raw[2 * row * stride : (2 * row + 1) * stride]
        lower = raw[(2 * row + 1) * stride : (2 * row + 2) * stride]
        segments: list[Segment] = []
        run_pair, run = -1, 0
        for x in range(0, stride, 3):
            pair = int.from_bytes(upper[x : x + 3], "big") << 24 | int.from_bytes(lower[x : x + 3], "big")
            if pair == run_pair:
                run += 1
                continue
            if run:
                segments.append(Segment("▀" * run, _style(run_pair)))
            run_pair, run = pair, 1
        segments.append(Segment("▀" * run, _style(run_pair)))
        strips.append(Strip(segments, width))
    return strips
