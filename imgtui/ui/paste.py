"""How much one paste may put into a field: a shared cap, checked before any widget sees it.

A 10 MB paste into the quick filter once froze the TUI for over 35 s: Input and TextArea
measure and re-render what they hold on every change. `ImgTuiApp` refuses a paste above the
focused widget's cap with a notification (nothing is inserted: half a path or half a JSON
object is worse than nothing). Where the paste is a drop (the list, the upload path field),
the drop parser's own cap applies.
"""

from __future__ import annotations

from textual.widget import Widget
from textual.widgets import Input, TextArea

LINE_PASTE_CHARS = 64 * 1024  # a one-line field: an id, a creator, a filter, a path
EDITOR_PASTE_CHARS = 1024 * 1024  # the metadata editor (metadata itself is at most 1024 bytes)


class TakesDrops:
    """Mixed into a field that reads a paste as dropped files: the drop cap applies to it.
    (A marker here, so the App need not import the forms to know them.)"""


def paste_limit(target: Widget | None) -> int:
    """The most characters one paste may bring to `target` (the focused widget, or None)."""
    # On first paste, not at launch: the drop parser pulls in the sniffer (~4 ms of imports).
    from imgtui.workflows.dropparse import MAX_DROP_CHARS

    if isinstance(target, TakesDrops):
        return MAX_DROP_CHARS
    if isinstance(target, TextArea):
        return EDITOR_PASTE_CHARS
    if isinstance(target, Input):
        return LINE_PASTE_CHARS
    return MAX_DROP_CHARS  # no field focused: the screen reads the paste as a drop


def paste_refusal(length: int, limit: int) -> str | None:
    """Why a paste of `length` characters is refused, or None when it fits."""
    if length <= limit:
        return None
    return f"Pasted {length:,} characters; this field takes at most {limit:,} at once. Nothing was pasted."
