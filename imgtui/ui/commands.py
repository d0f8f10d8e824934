"""imgtui's commands in Textual's command palette (ctrl+p), beside Textual's own.

A `Provider` (https://textual.textualize.io/guide/command_palette/) that lists what the
screen the palette was opened on can do, each one of that screen's actions: the palette
never reaches into a screen's widgets.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen

from imgtui.ui.screens.main import MainScreen


class PaletteCommand(NamedTuple):
    title: str
    help: str
    run: Callable[[], object]


def palette_commands(screen: Screen[object]) -> list[PaletteCommand]:
    """What the palette offers on `screen`: Help everywhere, the browsing actions on the list."""
    app = screen.app
    # Help is the App's action (this module cannot import the App): run it by name, soon.
    commands = [
        PaletteCommand(
            "Help", "Every key, grouped by purpose", lambda: app.call_next(app.run_action, "help")
        ),
    ]
    if not isinstance(screen, MainScreen):
        return commands
    main = screen
    commands += [
        PaletteCommand("Refresh", "Reload the image list from the top", main.action_refresh),
        PaletteCommand("Sort order", "Toggle newest first / oldest first", main.action_toggle_sort),
        PaletteCommand("Creator filter…", "List only one creator's images", main.action_creator_filter),
        PaletteCommand("Clear creator filter", "List every creator's images", main.action_clear_creator),
        PaletteCommand("Quick filter…", "Filter loaded images by id or filename", main.action_quick_filter),
        PaletteCommand("Copy…", "Copy the id or a delivery URL of the image", main.action_copy),
        PaletteCommand("Toggle preview", "Show or hide the image preview", main.action_toggle_preview),
        PaletteCommand(
            "Account…",
            "Variants, signing keys, flexible variants and usage",
            lambda: app.call_next(app.run_action, "account"),
        ),
        PaletteCommand(
            "Variant sizes",
            "Measure the image in each variant (pixels and bytes)",
            lambda: app.call_next(app.run_action, "variant_sizes"),
        ),
        PaletteCommand("Mark all", "Mark every listed image", main.action_mark_all),
        PaletteCommand("Clear marks", "Unmark every image", main.action_unmark_all),
        PaletteCommand("First image", "Go to the top of the list", main.action_first_image),
        PaletteCommand("Last loaded image", "Go to the last loaded image", main.action_last_image),
    ]
    return commands


class ImgTuiCommands(Provider):
    """The palette's imgtui section (posting's `PostingProvider` is the pattern)."""

    async def discover(self) -> Hits:
        for command in palette_commands(self.screen):
            yield DiscoveryHit(command.title, command.run, text=command.title, help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in palette_commands(self.screen):
            if (score := matcher.match(command.title)) > 0:
                highlighted = matcher.highlight(command.title)
                yield Hit(score, highlighted, command.run, text=command.title, help=command.help)
