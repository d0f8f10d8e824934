"""Textual's Footer, recomposed only when what it shows changes.

Textual's Footer rebuilds all its keys on every bindings signal, and a focus change sends two
(the App's `focused` watcher, then `Screen.set_focus` after the refresh): each rebuild is
~17 ms of widgets plus a layout and a full frame of the screen (~45 ms at 160x45). `t` moves
the focus between the list and the grid, whose footers are the same keys, so the first grid
screen paid both rebuilds for nothing (measured: 2 of the 4 layouts before its pictures).
https://textual.textualize.io/widgets/footer/
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Footer

if TYPE_CHECKING:
    from textual.screen import Screen

Shown = tuple[object, ...]


class QuietFooter(Footer):
    """A Footer that rebuilds once per burst of bindings signals, and only when the keys it
    would show (or their enabled state, descriptions, tooltips) differ from the last ones."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._shown: Shown | None = None
        self._check_pending = False

    def bindings_changed(self, screen: Screen) -> None:
        # Footer.compose draws nothing until the first signal (Textual's own flag).
        self._bindings_ready = True
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            return
        if not self._check_pending:
            self._check_pending = True
            self.call_after_refresh(self._recompose_if_changed)

    async def _recompose_if_changed(self) -> None:
        self._check_pending = False
        if not self.is_attached:
            return
        shown = self._what_is_shown()
        if shown != self._shown:
            self._shown = shown
            await self.recompose()

    def _what_is_shown(self) -> Shown:
        """What Footer.compose reads from the screen's bindings, as a comparable value."""
        active = self.screen.active_bindings
        keys = tuple(
            (binding.key, binding.action, binding.description, binding.group, enabled, tooltip)
            for (_node, binding, enabled, tooltip) in active.values()
            if binding.show
        )
        palette = active.get(self.app.COMMAND_PALETTE_BINDING)
        palette_shown = (
            (palette[1].key, palette[1].description, palette[2], palette[1].tooltip)
            if palette is not None and self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE
            else None
        )
        return (keys, palette_shown, self.combine_groups)
