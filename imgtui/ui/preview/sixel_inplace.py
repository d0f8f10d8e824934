"""textual-image's Sixel widget, with its picture swapped in place.

Its own `image` setter recomposes: the child that draws the Sixel data is removed and a new
one mounted, about 9 layout refreshes and a recompose per picture, painted over two frames
some 40 ms apart. xterm and mlterm show that as a blink (issue 15). Here a new picture goes
into the existing child, which repaints once.

Import only once textual-image may be imported (see `terminal.prepare_terminal`).
"""

from __future__ import annotations

from typing import Any

from textual_image.widget import SixelImage
from textual_image.widget import sixel as sixel_widget
from textual_image.widget._base import Image as BaseImage


class InPlaceSixelImage(SixelImage, Renderable=sixel_widget._NoopRenderable):
    def _set_image(self, value: Any) -> None:
        drawer = next(
            (child for child in self.children if isinstance(child, sixel_widget._ImageSixelImpl)), None
        )
        if drawer is None or getattr(self, "_is_failed", False):
            # Not composed yet, or 0.14 replaced the drawer with its error widget: the stock path.
            SixelImage.image.fset(self, value)  # type: ignore[attr-defined, unused-ignore]
            return
        BaseImage.image.fset(self, value)  # type: ignore[attr-defined]
        drawer.image = value
        drawer.refresh()

    image = property(BaseImage.image.fget, _set_image)  # type: ignore[attr-defined]
