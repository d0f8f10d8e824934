"""Small widgets the forms share: the JSON editor, a path input with tab completion, and a
file picker that shows only folders and images."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

from rich.text import Text, TextType
from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Checkbox, DirectoryTree, Input, TextArea

from imgtui.ui.display import plain, plain_text
from imgtui.ui.paste import TakesDrops
from imgtui.workflows.dropparse import BASE64_EXTENSION, IMAGE_EXTENSIONS, DropResult, parse_drop

UPLOADABLE_EXTENSIONS = IMAGE_EXTENSIONS | {BASE64_EXTENSION}
MAX_COMPLETIONS = 200  # a tab in a huge folder should not list it all


class TickBox(Checkbox):
    """A checkbox whose state reads without colour: `▐✓▌` ticked, `▐ ▌` not (Textual's
    draws `X` both ways and tells them apart by colour only)."""

    BUTTON_INNER = " "

    def watch_value(self) -> None:
        self.BUTTON_INNER = "✓" if self.value else " "
        super().watch_value()


class JsonEditor(TextArea):
    """The metadata editor: ctrl+a selects all, as a newcomer expects (home goes to the line
    start); f7 still does too."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+a", "select_all", "Select all", show=False, id="editor.select_all"),
    ]


def json_editor(text: str, *, id: str, classes: str = "") -> TextArea:  # noqa: A002 - Textual's name
    """A code editor for JSON: highlighted when tree-sitter-json is installed, plain otherwise.

    Tab moves focus (keyboard order through the form) and Escape reaches the form's cancel.
    """
    return JsonEditor.code_editor(
        text, language=_json_language(), tab_behavior="focus", soft_wrap=True, id=id, classes=classes
    )


def _json_language() -> str | None:
    """ "json" when TextArea can take it: with tree-sitter but no JSON grammar it raises."""
    try:
        from textual._tree_sitter import TREE_SITTER, get_language  # private: guard it
    except ImportError:
        return None
    return "json" if not TREE_SITTER or get_language("json") is not None else None


def _uploadable(name: str) -> bool:
    return Path(name).suffix.lower() in UPLOADABLE_EXTENSIONS


def path_completions(text: str, *, cwd: Path | None = None) -> list[str]:
    """What `text` can complete to: folder entries starting with its last part (folders end
    with `/`; files only when uploadable). Blocking (one scandir): call it in a thread."""
    if not text or "://" in text:
        return []
    expanded = os.path.expanduser(text)
    folder, _, prefix = expanded.rpartition(os.sep)
    typed_folder = text.rpartition(os.sep)[0] if os.sep in text else ""
    base = Path(folder or os.sep) if os.sep in expanded else Path(".")
    if not base.is_absolute():
        base = (cwd or Path.cwd()) / base
    found: list[str] = []
    try:
        with os.scandir(base) as entries:
            for entry in entries:
                if not entry.name.startswith(prefix):
                    continue
                if entry.name.startswith(".") and not prefix.startswith("."):
                    continue
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    continue
                if is_dir or _uploadable(entry.name):
                    shown = entry.name + (os.sep if is_dir else "")
                    found.append(f"{typed_folder}{os.sep}{shown}" if os.sep in text else shown)
                if len(found) >= MAX_COMPLETIONS:
                    break
    except OSError:
        return []
    return sorted(found, key=str.lower)


class PathInput(TakesDrops, Input):
    """An input for a path or URL. Tab completes (again: cycles through the matches); a paste
    of one or more dropped paths is handed to the form instead of being flattened to a line."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "complete", "Complete", show=False, id="path.complete", tooltip="Complete the path"),
    ]

    class Dropped(Message):
        """The user pasted (or dropped) text naming files or URLs into the input."""

        def __init__(self, path_input: PathInput, result: DropResult) -> None:
            super().__init__()
            self.path_input = path_input
            self.result = result

    class Completed(Message):
        """A tab completion happened: `matches` are the candidates (for a hint line)."""

        def __init__(self, path_input: PathInput, matches: list[str]) -> None:
            super().__init__()
            self.path_input = path_input
            self.matches = matches

    def __init__(self, *args, cwd: Path | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.cwd = cwd
        self._cycle: list[str] = []
        self._cycle_index = -1
        self._cycle_value: str | None = None

    async def action_complete(self) -> None:
        if not self.value:
            self.screen.focus_next()
            return
        if self._cycle and self.value == self._cycle_value:
            # Repeated tab: the next candidate.
            self._cycle_index = (self._cycle_index + 1) % len(self._cycle)
            self._set_completion(self._cycle[self._cycle_index])
            return
        matches = await asyncio.to_thread(path_completions, self.value, cwd=self.cwd)
        self.post_message(self.Completed(self, matches))
        if not matches:
            # Stay: moving focus would send the next keys typed to a button (the form says "No match").
            return
        common = os.path.commonprefix(matches)  # noqa: RUF071 - a text prefix is what tab extends to
        if len(matches) == 1 or len(common) > len(self.value):
            self._cycle = []
            self._set_completion(matches[0] if len(matches) == 1 else common)
        else:
            self._cycle = matches
            self._cycle_index = 0
            self._set_completion(matches[0])

    def _set_completion(self, value: str) -> None:
        self.value = value
        self.cursor_position = len(value)
        self._cycle_value = value

    # `on_paste`, not Input's `_on_paste`: Textual calls one handler per class either way, and
    # an async override of Input's sync `_on_paste` is not a valid override.
    async def on_paste(self, event: events.Paste) -> None:
        text = event.text
        if "\n" in text.strip() or "'" in text or "\\ " in text or "file://" in text:
            result = await asyncio.to_thread(parse_drop, text, cwd=self.cwd)
            if not result.empty:
                event.stop()
                event.prevent_default()
                self.post_message(self.Dropped(self, result))
        # Otherwise Input's own handler (next in the MRO) inserts the first line.


class ImageFileTree(DirectoryTree):
    """A file picker: folders and uploadable images only, hidden entries skipped; backspace
    goes up a folder (the tree starts in the working folder, the picture may be elsewhere).

    filter_paths runs in DirectoryTree's loader thread, so checking names here is free for the UI.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("backspace", "parent", "Up a folder", id="tree.parent", tooltip="Show the parent folder"),
    ]

    def on_mount(self) -> None:
        self.border_title = plain(self.path)

    async def watch_path(self) -> None:
        await super().watch_path()
        self.border_title = plain(self.path)  # the root node shows only the last part

    def process_label(self, label: TextType) -> Text:
        """File names are shown as they are: Tree would parse a str label as markup (a file
        `[b]x.png` turned bold, `[/]` raised), and a control character in a name is escaped."""
        return super().process_label(plain_text(label) if isinstance(label, str) else label)

    def action_parent(self) -> None:
        current = Path(self.path)
        if current.parent != current:
            self.path = current.parent

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        for path in paths:
            if path.name.startswith("."):
                continue
            try:
                if path.is_dir() or (_uploadable(path.name) and path.is_file()):
                    yield path
            except OSError:
                continue
