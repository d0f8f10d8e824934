"""Which textual-image renderer to use, and the terminal's cell size in pixels.

The terminal is asked by `imgtui.terminal` (XTVERSION, kitty query, cell size, DA1 last and
waited for), not by textual-image: its own probe (0.12: 100 ms per question, DA1 not awaited)
misreads slow links, leaves late replies to be read as keys, and sends tmux a bare kitty
query. `prepare_terminal()` runs our probe before `App.run()` (once Textual's input thread
owns stdin, no probe can read the replies) and keeps the answer; textual-image itself
(~35 ms of imports with Pillow) is imported when the first picture is drawn, its caches
filled with that answer and its probe made harmless first, so it never asks the terminal.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from imgtui import terminal as probe
from imgtui.terminal.decide import best_mode

if TYPE_CHECKING:
    # The base class of every textual-image widget (0.12 and 0.14 alike); imported for types
    # only, as importing the widget package probes the terminal.
    from textual_image.widget._base import Image as ImageWidget

PreviewMode = Literal["auto", "tgp", "sixel", "halfcell", "unicode", "off"]
RENDERER_MODES: tuple[PreviewMode, ...] = ("tgp", "sixel", "halfcell", "unicode")
PREVIEW_MODES: tuple[PreviewMode, ...] = ("auto", *RENDERER_MODES, "off")

_log = logging.getLogger("imgtui.preview")

# textual-image's own fallback (a VT340 cell) when the terminal does not say.
FALLBACK_CELL_SIZE = (10, 20)

_WIDGET_CLASS_NAMES = {
    "tgp": "TGPImage",
    "sixel": "SixelImage",
    "halfcell": "HalfcellImage",
    "unicode": "UnicodeImage",
}


class CellSize(NamedTuple):
    width: int  # pixels
    height: int


class _Prepared(NamedTuple):
    """What prepare_terminal() learnt, for textual-image's caches when it is imported."""

    cell: tuple[int, int]
    sixel: bool
    tgp: bool


_prepared: _Prepared | None = None


def prepared() -> bool:
    """Whether prepare_terminal() ran (or textual-image is loaded): drawing is then safe."""
    return _prepared is not None or "textual_image.widget" in sys.modules


def _import_widgets() -> object:
    """Import `textual_image.widget`: seeded and disarmed first when prepare_terminal() probed
    a terminal, so the import never queries it (and never races Textual for stdin)."""
    if "textual_image.widget" in sys.modules:
        return sys.modules["textual_image.widget"]
    # A failed probe logs a warning with a traceback; with logging unconfigured, Python's
    # last-resort handler would print it over the user's terminal before the app starts.
    quiet = logging.getLogger("textual_image")
    if not quiet.handlers:
        quiet.addHandler(logging.NullHandler())
    if _prepared is not None:
        _seed_probe_caches(_prepared.cell, sixel=_prepared.sixel, tgp=_prepared.tgp)
        with _probe_disarmed():  # off a terminal too: it would skip its probe there anyway
            return importlib.import_module("textual_image.widget")
    return importlib.import_module("textual_image.widget")


def _renderer_available() -> bool:
    """Whether textual-image can be imported, without importing it (a path lookup)."""
    try:
        return importlib.util.find_spec("textual_image.widget") is not None
    except (ImportError, ValueError):
        return False


def _seed_probe_caches(
    cell: tuple[int, int] = FALLBACK_CELL_SIZE, *, sixel: bool = False, tgp: bool = False
) -> None:
    """Fill textual-image's probe caches so that it never asks the terminal itself.

    Both 0.12 (`get_cell_size._result`) and 0.14 (`probe_terminal._result`) cache on the
    function; `textual_image._terminal` imports without probing.
    """
    terminal = importlib.import_module("textual_image._terminal")
    size = terminal.CellSize(*cell)
    if hasattr(terminal, "probe_terminal") and hasattr(terminal, "TerminalCapabilities"):
        terminal.probe_terminal._result = terminal.TerminalCapabilities(size, sixel=sixel, tgp=tgp)
    terminal.get_cell_size._result = size


class _NotATerminal:
    """sys.__stdout__ as textual-image's import sees it: not a TTY, so 0.12's renderable
    package skips its own Sixel / TGP queries (0.14 reads the seeded cache anyway)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def isatty(self) -> bool:
        return False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextmanager
def _probe_disarmed() -> Iterator[None]:
    real = sys.__stdout__
    if real is not None:
        setattr(sys, "__stdout__", _NotATerminal(real))  # noqa: B010 (typeshed types it TextIO)
    try:
        yield
    finally:
        setattr(sys, "__stdout__", real)  # noqa: B010


def _tgp_wraps_for_tmux() -> bool:
    """textual-image 0.14 wraps its TGP output in tmux's passthrough; 0.12 does not."""
    try:
        return importlib.util.find_spec("textual_image._tmux") is not None
    except (ImportError, ValueError):
        return False


def _on_a_terminal() -> bool:
    stdout = sys.__stdout__
    try:
        return stdout is not None and stdout.isatty()
    except (OSError, ValueError):
        return False


def prepare_terminal(mode: PreviewMode) -> PreviewMode:
    """Probe the terminal and return the mode actually usable; textual-image is imported
    later, by the first picture (`widget_class`), with this answer.

    Call it BEFORE `App.run()`. `auto` returns what the terminal can draw best (sixel, tgp,
    else halfcell; unicode when stdout is not a terminal, as textual-image picks there). A
    forced mode the terminal cannot draw is replaced by the auto choice, with a warning in
    `imgtui.terminal.current()` for the preview to show. If textual-image is not installed,
    "off". Never raises, never prints.
    """
    global _prepared
    if mode == "off":
        return "off"
    if mode not in PREVIEW_MODES:
        mode = "auto"
    if not _renderer_available():
        return "off"
    if prepared():  # already probed: nothing more to ask
        decision = probe.current()
        if decision is None or not _on_a_terminal():
            return "unicode" if mode == "auto" else mode
        return mode if mode in decision.can_draw else best_mode(decision.can_draw)
    if not _on_a_terminal():
        probe.detect(mode)  # no I/O: records "not a terminal" for describe()
        _prepared = _Prepared(FALLBACK_CELL_SIZE, sixel=False, tgp=False)
        return "unicode" if mode == "auto" else mode
    try:
        decision = probe.detect(mode, tgp_wraps_for_tmux=_tgp_wraps_for_tmux())
    except Exception:
        _prepared = _Prepared(FALLBACK_CELL_SIZE, sixel=False, tgp=False)
        return "halfcell"
    _prepared = _Prepared(
        decision.cell_size, sixel="sixel" in decision.can_draw, tgp="tgp" in decision.can_draw
    )
    return decision.mode


def update_cell_size(cell: tuple[int, int]) -> bool:
    """Tell textual-image the terminal's cells changed (a font change, a new window).

    Returns whether anything changed; then pictures must be re-encoded for the new cells."""
    global _prepared
    if not prepared() or cell[0] <= 0 or cell[1] <= 0:
        return False
    if cell_size() == cell:
        return False
    if "textual_image.widget" not in sys.modules:  # not loaded yet: it is seeded with this
        assert _prepared is not None
        _prepared = _prepared._replace(cell=cell)
        _log.info("cell size now %dx%d px", *cell)
        return True
    terminal = importlib.import_module("textual_image._terminal")
    if hasattr(terminal, "probe_terminal") and hasattr(terminal, "TerminalCapabilities"):
        old = getattr(terminal.probe_terminal, "_result", None)
        sixel, tgp = (old.sixel, old.tgp) if old is not None else (False, False)
        terminal.probe_terminal._result = terminal.TerminalCapabilities(
            terminal.CellSize(*cell), sixel=sixel, tgp=tgp
        )
    terminal.get_cell_size._result = terminal.CellSize(*cell)
    _log.info("cell size now %dx%d px: pictures are re-encoded", *cell)  # for --debug reports
    return True


def remeasure_cell_size() -> bool:
    """Re-read the cell size from the kernel (TIOCGWINSZ); True when it changed."""
    measured = probe.measure_cell_size()
    return measured is not None and update_cell_size(measured)


def usable_mode(mode: PreviewMode) -> PreviewMode:
    """The mode a widget may use once the app may already be running; imports nothing.

    If the CLI called `prepare_terminal` (textual-image is then imported with its answer
    and never probes), or stdout is not a terminal (tests, pipes: textual-image then skips
    its probe), drawing is safe. Otherwise importing textual-image now would race Textual
    for stdin, so previews stay off.
    """
    if mode == "off":
        return "off"
    stdout = sys.__stdout__
    if prepared() or stdout is None or not stdout.isatty():
        return prepare_terminal(mode)
    return "off"


def resolve_in_app(mode: PreviewMode) -> PreviewMode:
    """`usable_mode`, with textual-image imported (seeded and disarmed) when it draws: code
    that then imports a textual-image module itself (the grid's renderables) finds it
    loaded and can never set off its probe. "off" if it cannot be imported."""
    mode = usable_mode(mode)
    if mode == "off":
        return "off"
    try:
        _import_widgets()
    except Exception:  # an unusable textual-image: no pictures, never a crash
        return "off"
    return mode


def widget_class(mode: PreviewMode) -> type[ImageWidget]:
    """The textual-image widget class for a resolved renderer mode (not auto/off)."""
    widgets = _import_widgets()
    if mode == "sixel":
        from imgtui.ui.preview.sixel_inplace import InPlaceSixelImage

        return InPlaceSixelImage
    return getattr(widgets, _WIDGET_CLASS_NAMES[mode])


def cell_size() -> CellSize:
    """The terminal cell size in pixels, as the probe measured it (10x20 if unknown)."""
    if "textual_image.widget" not in sys.modules:
        if _prepared is not None:
            return CellSize(*_prepared.cell)  # what textual-image will be told
        return CellSize(*FALLBACK_CELL_SIZE)  # asking now could race Textual for stdin
    try:
        terminal = importlib.import_module("textual_image._terminal")
        width, height = terminal.get_cell_size()  # cached by the widget module's import
        if width > 0 and height > 0:
            return CellSize(int(width), int(height))
    except Exception:
        pass
    return CellSize(*FALLBACK_CELL_SIZE)
