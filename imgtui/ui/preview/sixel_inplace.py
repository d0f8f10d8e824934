"""textual-image's Sixel widget, with its picture swapped in place and painted once.

Two things painted every new picture more than once, which xterm and mlterm show as a blink
(painted, blanked for 20 to 40 ms, painted again; issue 15):

- its `image` setter recomposes: the child that draws the Sixel data is removed and a new one
  mounted (about 9 layout refreshes and a recompose). Here a new picture goes into the
  existing child.
- a widget whose size changes is marked for a repaint during the layout pass that resized
  it, after that pass has already painted its new region: its `virtual_size` reactive
  refreshes it (layout and repaint), and Textual marks the whole widget dirty. Whenever the
  screen updates again (the drawer's own refresh for the new picture, queued as a message,
  often arrives just after the layout pass), it is painted a second time. Every repaint of
  a Sixel widget first writes blank cells over the picture, then the Sixel data again: the
  blink. The layout pass repaints a resized widget's old and new regions anyway, and these
  widgets are never scrolled, so here a new size is recorded without either.

Import only once textual-image may be imported (see `terminal.prepare_terminal`).
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.geometry import Size
from textual.widget import Widget
from textual_image.widget import SixelImage
from textual_image.widget import sixel as sixel_widget
from textual_image.widget._base import Image as BaseImage


def _resized_without_repaint(widget: Widget, changed: bool) -> bool:
    if changed:
        # The layout pass that resized the widget paints its regions; a repaint still pending
        # for the widget would paint it once more on the next screen update.
        widget._exchange_repaint_regions()
    return changed


class _OnePaintDrawer(sixel_widget._ImageSixelImpl):
    def _size_updated(
        self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True
    ) -> bool:
        # Textual's own bookkeeping, with layout=False: the virtual size is set without the
        # refresh that would repaint this resized widget a second time.
        changed = super()._size_updated(size, virtual_size, container_size, layout=False)
        return _resized_without_repaint(self, changed)


class InPlaceSixelImage(SixelImage, Renderable=sixel_widget._NoopRenderable):
    def compose(self) -> ComposeResult:
        yield _OnePaintDrawer(self.image, self._sixel_options)

    def _size_updated(
        self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True
    ) -> bool:
        changed = super()._size_updated(size, virtual_size, container_size, layout=False)  # as above
        return _resized_without_repaint(self, changed)

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
