"""The inline image preview of the details panel.

INTERFACE (the main screen relies on it):
    resolved = prepare_terminal("auto")  # call BEFORE App.run(): imports textual-image,
                                         # which probes the terminal; never raises; returns
                                         # the mode actually usable ("halfcell", "off", ...)
    preview = ImagePreview(images, mode=resolved, id="preview")
    preview.show(image_id)   # fetch bytes(), decode off the UI thread, render; None clears
    preview.show_cached(image_id)  # cursor moved, show() to follow: cached picture or nothing
    preview.forget(image_id) # drop cached data (after delete or re-upload)

How a preview gets on screen: `show()` answers from the thumbnail cache synchronously when it
can; otherwise it starts one exclusive async worker (which cancels the previous one, so a
stale download is abandoned and a stale result is never displayed) that fetches the bytes
and decodes them in the loader's thread. The decoded thumbnail is already small, so the
repaints textual-image does on every resize or focus change stay cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from textual import events
from textual.app import ComposeResult
from textual.containers import Container
from textual.widget import Widget
from textual.widgets import Static

from imgtui import terminal as probe
from imgtui.common.text import safe_text
from imgtui.service import Images
from imgtui.ui.preview.geometry import decode_box, fit_cells
from imgtui.ui.preview.loader import PreviewLoader, PreviewMessage, PreviewOutcome, bucket_box
from imgtui.ui.preview.terminal import (
    PreviewMode,
    cell_size,
    prepare_terminal,
    remeasure_cell_size,
    usable_mode,
    widget_class,
)

if TYPE_CHECKING:
    from PIL import Image as PILImage
    from textual_image.widget._base import Image as ImageWidget

    from imgtui.ui.preview.decode import Thumbnail

__all__ = ["ImagePreview", "PreviewMode", "prepare_terminal"]

WORKER_GROUP = "preview"
LOADING_TEXT = "Loading preview…"
# Most previews arrive within this; showing "Loading" only after it avoids a flash of text.
LOADING_DELAY = 0.15  # seconds
# The renderer is chosen (and the terminal probed) before the app starts, so `v` alone cannot
# turn an "off" session on: say how to.
OFF_TEXT = "Preview off for this session: start imgtui with --preview auto"
# A font change (foot: ctrl+plus) can keep the columns and rows and change only the pixels of
# a cell, so no Resize comes: the kernel's window size (TIOCGWINSZ, one cheap ioctl) is read
# this often while a pixel renderer is in use.
CELL_CHECK_INTERVAL = 1.0  # seconds


@dataclass(frozen=True, slots=True)
class _Request:
    """One wanted preview: which image, decoded for which pixel box."""

    image_id: str
    box: tuple[int, int]


class _Stage(Container):
    """Centres the image (or the message) and tells the preview when its size changes."""

    def on_resize(self, event: events.Resize) -> None:
        parent = self.parent
        if isinstance(parent, ImagePreview):
            parent._stage_resized()


class ImagePreview(Widget):
    """Shows one hosted image, decoded off the UI thread and sized to the panel."""

    DEFAULT_CSS = """
    ImagePreview {
        height: 1fr;
        min-height: 3;
    }
    ImagePreview > _Stage {
        width: 1fr;
        height: 1fr;
        align: center middle;
    }
    ImagePreview .preview--message {
        width: auto;
        max-width: 100%;
        height: auto;
        color: $text-muted;
        text-align: center;
    }
    ImagePreview .preview--message.-error {
        color: $text-error;
    }
    ImagePreview .preview--note {
        width: auto;
        max-width: 100%;
        height: 1;
        color: $text-muted;
    }
    """

    def __init__(self, images: Images, mode: PreviewMode = "auto", **kwargs) -> None:
        super().__init__(**kwargs)
        self.images = images
        # The renderer actually used; "off" if textual-image could not be loaded safely. It
        # is imported after the first frame (_image_widget), not with the panel.
        self.mode: PreviewMode = usable_mode(mode)
        self.image_id: str | None = None  # what show() last asked for
        self.shown_id: str | None = None  # whose picture or message is on screen now
        self._loader = PreviewLoader(images)
        self._request: _Request | None = None
        self._thumbnail: Thumbnail | None = None  # the one on screen, for re-fitting
        self._stage = _Stage()
        self._message = Static("", markup=False, classes="preview--message")
        self._note = Static("", markup=False, classes="preview--note")
        self._image: ImageWidget | None = None
        self._fitted: tuple[int, int] | None = None  # the image widget's size in cells

    # -- public interface -------------------------------------------------------------

    def show(self, image_id: str | None) -> None:
        """Preview `image_id` (None clears). Showing the id already shown does nothing."""
        if image_id == self.image_id:
            return
        self.image_id = image_id
        self._start(quiet=False)

    def show_cached(self, image_id: str | None) -> None:
        """Show `image_id` only if that needs no I/O, else clear the panel until `show()`.

        For a cursor that moves faster than `show()` is debounced: without it, holding `j`
        leaves the last loaded picture under the title of every row passed over.
        """
        if image_id == self.image_id:
            return
        self.workers.cancel_group(self, WORKER_GROUP)
        self._request = None
        box = self._wanted_box() if self.mode != "off" else None
        cached = None if image_id is None or box is None else self._loader.cached(image_id, box)
        if image_id is None or box is None or cached is None:
            self.image_id = None  # so that the show() to come loads it
            if self.mode != "off" and self.is_mounted:
                self._clear()
            return
        self.image_id = image_id
        request = _Request(image_id, box)
        self._request = request
        self._present(request, cached)

    def forget(self, image_id: str) -> None:
        """Drop what is cached for `image_id`; if it is on screen, load it afresh."""
        self._loader.forget(image_id)
        if image_id == self.image_id:
            self._start(quiet=False)

    # -- Textual ----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with self._stage:
            yield self._message
            yield self._note

    def on_mount(self) -> None:
        decision = probe.current()
        if decision is not None and decision.warning and self.mode != "off":
            self.notify(decision.warning, severity="warning", timeout=8, markup=False)
        if self.mode in ("sixel", "tgp") and probe.measure_cell_size() is not None:
            self.set_interval(CELL_CHECK_INTERVAL, self._check_cell_size)
        self._note.display = False
        if self.mode == "off":
            self._set_message(OFF_TEXT)
        else:
            self._message.display = False
            # The picture widget (textual-image and Pillow: ~35 ms of imports) after the
            # first frame, hidden until a picture comes: the launch does not wait for it.
            self.call_after_refresh(self._image_widget)

    def _image_widget(self) -> ImageWidget | None:
        """The textual-image widget, made (and mounted, hidden) on first use; None when
        textual-image fails to load (the preview then says it is off)."""
        if self._image is None and self.mode != "off":
            try:
                image = widget_class(self.mode)(None, classes="preview--image")
            except Exception:  # an unusable textual-image: no pictures, never a crash
                self.mode = "off"
                self._set_message(OFF_TEXT)
                return None
            image.display = False
            self._image = image
            self._stage.mount(image, before=self._message)
        return self._image

    def on_unmount(self) -> None:
        self.workers.cancel_group(self, WORKER_GROUP)
        self._loader.close()

    # -- loading ----------------------------------------------------------------------

    def _area_cells(self, *, note: bool = False) -> tuple[int, int] | None:
        """Columns x rows the image may use, or None before the first layout."""
        if not self.is_mounted:
            return None
        size = self._stage.content_size
        rows = size.height - (1 if note else 0)
        if size.width <= 0 or rows <= 0:
            return None
        return size.width, rows

    def _wanted_box(self) -> tuple[int, int] | None:
        area = self._area_cells()
        if area is None:
            return None
        return bucket_box(*decode_box(self.mode, area, cell_size()))

    def _start(self, *, quiet: bool) -> None:
        """Begin showing `self.image_id`; `quiet` keeps the current picture until the new
        one is ready (used when only the panel size changed)."""
        self.workers.cancel_group(self, WORKER_GROUP)
        self._request = None
        if self.mode == "off" or not self.is_mounted:
            return  # on_mount / the first resize start it again
        if self.image_id is None:
            self._clear()
            return
        box = self._wanted_box()
        if box is None:
            return
        request = _Request(self.image_id, box)
        self._request = request
        cached = self._loader.cached(request.image_id, request.box)
        if cached is not None:
            self._present(request, cached)
            return
        if not quiet or self.shown_id != request.image_id:
            self._clear()  # never leave the previous image up under the new id
            self.set_timer(LOADING_DELAY, partial(self._loading_due, request))
        self.run_worker(
            self._load(request),
            name=f"preview {request.image_id}",
            group=WORKER_GROUP,
            exclusive=True,
            exit_on_error=False,
        )

    def _loading_due(self, request: _Request) -> None:
        if request == self._request and self.shown_id != request.image_id:
            self._set_message(LOADING_TEXT)

    async def _load(self, request: _Request) -> None:
        outcome = await self._loader.load(request.image_id, request.box)
        # An exclusive worker is cancelled when show() moves on, but the check keeps a
        # result that raced the cancellation from ever reaching the screen.
        if request == self._request:
            self._present(request, outcome)

    def _check_cell_size(self) -> None:
        if remeasure_cell_size():
            self._cells_changed()

    def _cells_changed(self) -> None:
        """The terminal's cells changed size: refit, and re-decode for the new pixel box."""
        self._fitted = None
        self._stage_resized(remeasure=False)

    def _stage_resized(self, *, remeasure: bool = True) -> None:
        if remeasure and self.mode != "off":
            remeasure_cell_size()  # a new window size may come with new cells (font change)
            self._fitted = None
        if self._thumbnail is not None and self.shown_id == self.image_id:
            self._fit(self._thumbnail)
        box = self._wanted_box()
        if self.image_id is None or box is None:
            return
        if self._request is None:
            self._start(quiet=False)  # show() came before the first layout
        elif box != self._request.box and (self._thumbnail is not None or self.shown_id != self.image_id):
            self._start(quiet=True)  # a message (SVG, error) does not depend on the size

    # -- display ----------------------------------------------------------------------

    def _present(self, request: _Request, outcome: PreviewOutcome) -> None:
        self.shown_id = request.image_id
        if isinstance(outcome, PreviewMessage):
            self._set_message(outcome.text, error=outcome.is_error)
            return
        image = self._image_widget()
        if image is None:
            return
        self._thumbnail = outcome
        self._note.update(safe_text(outcome.note or ""))
        self._note.display = outcome.note is not None
        self._message.display = False
        self._fit(outcome)
        image.image = self._renderable_image(outcome.image)
        image.display = True

    def _fit(self, thumbnail: Thumbnail) -> None:
        """Size the image widget in cells: explicit, aspect-correct, never 0."""
        area = self._area_cells(note=thumbnail.note is not None)
        if area is None or self._image is None:
            return
        fitted = fit_cells(thumbnail.original_size, area, cell_size(), self.mode)
        if fitted == self._fitted:
            return  # setting the same size still costs a layout refresh each
        self._fitted = fitted
        self._image.styles.width, self._image.styles.height = fitted

    def _renderable_image(self, image: PILImage.Image) -> PILImage.Image:
        """Text renderers draw alpha as black: flatten onto this widget's own background."""
        if self.mode not in ("halfcell", "unicode"):
            return image
        from imgtui.workflows.image_decode import flatten_alpha  # Pillow: loaded once a picture comes

        return flatten_alpha(image, self.background_colors[1].rgb)

    def _set_message(self, text: str, *, error: bool = False) -> None:
        self._thumbnail = None
        if self._image is not None:
            self._image.display = False
            self._image.image = None
        self._note.display = False
        self._message.update(safe_text(text, multiline=True))  # may quote a server's error
        self._message.set_class(error, "-error")
        self._message.display = True

    def _clear(self) -> None:
        self.shown_id = None
        self._set_message("")
        self._message.display = False
