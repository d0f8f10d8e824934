"""Which textual-image renderer to use, and the terminal's cell size in pixels.

textual-image probes the terminal (DA / TGP queries on stdin) when its `renderable` package
is first imported. That must happen before `App.run()`: once Textual's input thread owns
stdin, the probe blocks for its timeout and then guesses wrong. So the CLI calls
`prepare_terminal()` first, and the widget only imports textual-image when that is safe.
"""

from __future__ import annotations

import importlib
import logging
import sys
from typing import TYPE_CHECKING, Literal, NamedTuple

if TYPE_CHECKING:
    # The base class of every textual-image widget (0.12 and 0.14 alike); imported for types
    # only, as importing the widget package probes the terminal.
    from textual_image.widget._base import Image as ImageWidget

PreviewMode = Literal["auto", "tgp", "sixel", "halfcell", "unicode", "off"]
RENDERER_MODES: tuple[PreviewMode, ...] = ("tgp", "sixel", "halfcell", "unicode")
PREVIEW_MODES: tuple[PreviewMode, ...] = ("auto", *RENDERER_MODES, "off")

# textual-image's own fallback (a VT340 cell) when the terminal does not say.
FALLBACK_CELL_SIZE = (10, 20)

_WIDGET_CLASS_NAMES = {
    "tgp": "TGPImage",
    "sixel": "SixelImage",
    "halfcell": "HalfcellImage",
    "unicode": "UnicodeImage",
}
_RENDERABLE_MODULES: dict[str, PreviewMode] = {
    "textual_image.renderable.tgp": "tgp",
    "textual_image.renderable.sixel": "sixel",
    "textual_image.renderable.halfcell": "halfcell",
    "textual_image.renderable.unicode": "unicode",
}


class CellSize(NamedTuple):
    width: int  # pixels
    height: int


def _import_widgets() -> object:
    """Import `textual_image.widget` (this runs the terminal probe on first import)."""
    # A failed probe logs a warning with a traceback; with logging unconfigured, Python's
    # last-resort handler would print it over the user's terminal before the app starts.
    quiet = logging.getLogger("textual_image")
    if not quiet.handlers:
        quiet.addHandler(logging.NullHandler())
    return importlib.import_module("textual_image.widget")


def _seed_probe_caches() -> None:
    """Make textual-image's probes answer "nothing supported, 10x20 cells" without asking.

    Used only after a probe crashed (e.g. ZeroDivisionError on a 0x0 PTY: textual-image
    catches only OSError there), so that a retry of the import can succeed. Both 0.12
    (`get_cell_size._result`) and 0.14 (`probe_terminal._result`) cache on the function.
    """
    terminal = importlib.import_module("textual_image._terminal")
    cell = terminal.CellSize(*FALLBACK_CELL_SIZE)
    if hasattr(terminal, "probe_terminal") and hasattr(terminal, "TerminalCapabilities"):
        terminal.probe_terminal._result = terminal.TerminalCapabilities(cell, sixel=False, tgp=False)
    terminal.get_cell_size._result = cell


def _auto_choice() -> PreviewMode:
    """Map what textual-image picked at import time to our mode name."""
    renderable = importlib.import_module("textual_image.renderable")
    return _RENDERABLE_MODULES.get(getattr(renderable.Image, "__module__", ""), "halfcell")


def prepare_terminal(mode: PreviewMode) -> PreviewMode:
    """Import textual-image (probing the terminal) and return the mode actually usable.

    Call it BEFORE `App.run()`. `auto` returns what textual-image detected (tgp, sixel,
    halfcell, or unicode when stdout is not a terminal); an explicit renderer mode is
    returned as asked once its widget class imports. If the probe crashes, the import is
    retried with the probe answered "no graphics" and the result is "halfcell"; if
    textual-image cannot be imported at all, "off". Never raises, never prints.
    """
    if mode == "off":
        return "off"
    if mode not in PREVIEW_MODES:
        mode = "auto"
    try:
        _import_widgets()
        return _auto_choice() if mode == "auto" else mode
    except Exception:
        pass
    try:
        _seed_probe_caches()
        _import_widgets()
        return "halfcell"
    except Exception:
        return "off"


def resolve_in_app(mode: PreviewMode) -> PreviewMode:
    """The mode a widget may use once the app may already be running.

    If textual-image is already imported (the CLI called `prepare_terminal`), or stdout is
    not a terminal (tests, pipes: textual-image then skips its probe), importing is safe.
    Otherwise importing now would race Textual for stdin, so previews stay off.
    """
    if mode == "off":
        return "off"
    prepared = "textual_image.widget" in sys.modules
    stdout = sys.__stdout__
    if prepared or stdout is None or not stdout.isatty():
        return prepare_terminal(mode)
    return "off"


def widget_class(mode: PreviewMode) -> type[ImageWidget]:
    """The textual-image widget class for a resolved renderer mode (not auto/off)."""
    widgets = _import_widgets()
    return getattr(widgets, _WIDGET_CLASS_NAMES[mode])


def cell_size() -> CellSize:
    """The terminal cell size in pixels, as textual-image measured it (10x20 if unknown)."""
    if "textual_image.widget" not in sys.modules:
        return CellSize(*FALLBACK_CELL_SIZE)  # asking now could race Textual for stdin
    try:
        terminal = importlib.import_module("textual_image._terminal")
        width, height = terminal.get_cell_size()  # cached by the widget module's import
        if width > 0 and height > 0:
            return CellSize(int(width), int(height))
    except Exception:
        pass
    return CellSize(*FALLBACK_CELL_SIZE)
