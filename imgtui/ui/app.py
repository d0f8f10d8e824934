"""`ImgTuiApp`: the Textual application (theme, help, command palette, shutdown).

It takes a ready `Images` service (tests inject `Images.local(tmp)`) and closes it on exit.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path, PurePath
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.theme import Theme

from imgtui.service import Images
from imgtui.ui.config import UiConfig, load_config, save_config
from imgtui.ui.screens.main import MainScreen
from imgtui.ui.widgets.preview import PreviewMode


def css_paths() -> list[Path]:
    """app.tcss and modals.tcss: `imgtui/tcss` in an installed wheel, `tcss/` in a checkout."""
    package = Path(__file__).resolve().parent.parent
    for folder in (package / "tcss", package.parent / "tcss"):
        if (folder / "app.tcss").is_file():
            return [folder / "app.tcss", folder / "modals.tcss"]
    raise FileNotFoundError(f"imgtui styles (tcss/app.tcss) not found near {package}")


class ImgTuiApp(App[None]):
    TITLE = "imgtui"
    CSS_PATH: ClassVar[list[str | PurePath]] = [*css_paths()]  # Textual's list type (lists are invariant)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="app.quit", tooltip="Quit imgtui"),
        Binding("question_mark,f1", "help", "Help", id="app.help", tooltip="Every key, grouped by purpose"),
    ]

    def __init__(
        self,
        images: Images,
        *,
        preview_mode: PreviewMode = "off",
        demo: bool = False,
        config: UiConfig | None = None,
    ) -> None:
        super().__init__()
        self.images = images
        self.preview_mode = preview_mode
        self.demo = demo
        self.config = config if config is not None else load_config()

    def on_mount(self) -> None:
        if self.config.theme in self.available_themes:
            self.theme = self.config.theme
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        self.push_screen(MainScreen(preview_mode=self.preview_mode, demo=self.demo))

    async def on_unmount(self) -> None:
        await self.images.aclose()

    # ----------------------------------------------------------------- theme

    def _remember_theme(self, theme: Theme) -> None:
        if theme.name == self.config.theme:
            return
        self.config = self.config.model_copy(update={"theme": theme.name})
        self.run_worker(lambda: save_config(self.config), thread=True, group="config", exit_on_error=False)

    # ----------------------------------------------------------------- actions

    def action_help(self) -> None:
        from imgtui.ui.screens.help import HelpScreen  # on first use: not needed to start

        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.screen))

    @property
    def main_screen(self) -> MainScreen | None:
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                return screen
        return None

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        main = self.main_screen
        yield SystemCommand("Help", "Every key, grouped by purpose", self.action_help)
        if main is None or screen is not main:
            return
        table = main.table
        yield SystemCommand("Refresh", "Reload the image list from the top", main.action_refresh)
        yield SystemCommand("Sort order", "Toggle newest first / oldest first", main.action_toggle_sort)
        yield SystemCommand("Creator filter…", "List only one creator's images", main.action_creator_filter)
        yield SystemCommand(
            "Clear creator filter", "List every creator's images", lambda: main.set_creator(None)
        )
        yield SystemCommand(
            "Quick filter…", "Filter loaded images by id or filename", main.action_quick_filter
        )
        yield SystemCommand("Copy…", "Copy the id or a delivery URL of the image", main.action_copy)
        yield SystemCommand("Toggle preview", "Show or hide the image preview", main.action_toggle_preview)
        yield SystemCommand("Mark all", "Mark every listed image", table.action_mark_all)
        yield SystemCommand("Clear marks", "Unmark every image", table.clear_marks)
        yield SystemCommand("First image", "Go to the top of the list", table.action_first)
        yield SystemCommand("Last loaded image", "Go to the last loaded image", table.action_last)
