"""`?` / F1: every key of the screen below, grouped by purpose.

Built from the live bindings (not a hand-kept list), so keys added later by other parts of
the app show up by themselves. A binding's group is the prefix of its id: `list.down` goes
under "Move", `edit.metadata` under "Edit"; an unknown prefix lands in "More".
"""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from imgtui.ui.worker_errors import ForwardsWorkerErrors

GROUPS: dict[str, str] = {
    "list": "Move",
    "mark": "Mark",
    "find": "Find & sort",
    "view": "View",
    "copy": "Copy",
    "edit": "Edit",
    "upload": "Edit",
    "account": "Account",
    "app": "App",
    "viewer": "Viewer",
}
GROUP_ORDER = ["Move", "Mark", "Find & sort", "View", "Viewer", "Copy", "Edit", "Account", "More", "App"]

INTRO = (
    "imgtui browses a Cloudflare Images account or a local library. The list reaches every "
    "image at once (/ searches them all); t shows it as a grid of thumbnails, f shows the "
    "highlighted image full screen, and the panel on the right shows its details."
)

# Keys Textual itself provides: always worth knowing.
BUILTIN_KEYS = [("^p", "Command palette: search every command"), ("^q", "Quit")]


def group_of(binding: Binding) -> str:
    prefix = (binding.id or "").split(".", 1)[0]
    return GROUPS.get(prefix, "More")


class HelpScreen(ForwardsWorkerErrors, ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,f1", "close", "Close", id="help.close", tooltip="Close the help"),
    ]

    def __init__(self, screen: Screen) -> None:
        super().__init__(id="help")
        self.keys_by_group = collect_keys(screen)

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box") as box:
            box.border_title = "imgtui help"
            box.border_subtitle = "esc / ? close"
            with VerticalScroll(id="help-body"):
                yield Static(INTRO, id="help-intro")
                with Grid(id="help-groups"):
                    for group in GROUP_ORDER:
                        rows = self.keys_by_group.get(group)
                        if rows:
                            with Vertical(classes="help-section"):
                                yield Static(group, classes="help-group")
                                yield Static(_key_table(rows), classes="help-keys")

    def action_close(self) -> None:
        self.dismiss(None)


def collect_keys(screen: Screen) -> dict[str, list[tuple[str, str]]]:
    """{group: [(keys, description)]} for the bindings active on `screen`."""
    app = screen.app
    seen: dict[tuple[str, str], tuple[str, list[str], str]] = {}
    for key, active in screen.active_bindings.items():
        binding = active.binding
        if not binding.description or not _declared_by_imgtui(active.node, key, binding):
            continue  # Textual's own scrolling/focus keys: standard, and noise here
        ident = (binding.id or binding.action, binding.action)
        display = app.get_key_display(Binding(key, binding.action, key_display=None))
        description = binding.tooltip or binding.description  # the tooltip says more
        entry = seen.setdefault(ident, (group_of(binding), [], description))
        if display not in entry[1]:
            entry[1].append(display)
    groups: dict[str, list[tuple[str, str]]] = {}
    for group, displays, description in seen.values():
        groups.setdefault(group, []).append((" ".join(displays), description))
    groups.setdefault("App", []).extend(BUILTIN_KEYS)
    return groups


def _declared_by_imgtui(node: object, key: str, binding: Binding) -> bool:
    """Was `binding` declared by an imgtui class (not inherited from a Textual widget)?"""
    for cls in type(node).__mro__:
        if not cls.__module__.startswith("imgtui"):
            continue
        for declared in vars(cls).get("BINDINGS", []):
            if (
                isinstance(declared, Binding)
                # the declared key, or the user's own for it (a `[keymap]` entry by binding id)
                and (key in declared.key.split(",") or (binding.id is not None and declared.id == binding.id))
                and (declared.action, declared.description) == (binding.action, binding.description)
            ):
                return True
    return False


def _key_table(rows: list[tuple[str, str]]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(min_width=8, no_wrap=True)
    table.add_column()
    for keys, description in rows:
        table.add_row(Text(keys, style="bold"), Text(description))
    return table
