"""The inline image preview of the details panel.

INTERFACE (the main screen relies on it; the body is filled in by the preview work):
    resolved = prepare_terminal("auto")  # call BEFORE App.run(): imports textual-image,
                                         # which probes the terminal; never raises; returns
                                         # the mode actually usable ("halfcell", "off", ...)
    preview = ImagePreview(images, mode="auto", id="preview")
    preview.show(image_id)   # fetch bytes(), decode off the UI thread, render; None clears
    preview.forget(image_id) # drop a cached thumbnail (after delete or re-upload)
"""

from __future__ import annotations

from typing import Literal

from textual.widgets import Static

from imgtui.service import Images

PreviewMode = Literal["auto", "tgp", "sixel", "halfcell", "unicode", "off"]


def prepare_terminal(mode: PreviewMode) -> PreviewMode:
    """Placeholder: previews off until the preview work lands."""
    return "off"


class ImagePreview(Static):
    """Placeholder body: shows which image would be previewed."""

    def __init__(self, images: Images, mode: PreviewMode = "auto", **kwargs) -> None:
        super().__init__("", **kwargs)
        self.images = images
        self.mode = mode
        self.image_id: str | None = None

    def show(self, image_id: str | None) -> None:
        self.image_id = image_id
        self.update("" if image_id is None else f"(preview of {image_id})")

    def forget(self, image_id: str) -> None:
        pass
