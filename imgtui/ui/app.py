"""`ImgTuiApp`: the Textual application (theme, help, command palette, failures, shutdown).

It takes a ready `Images` service (tests inject `Images.local(tmp)`), hands it to the main
screen, and closes it on exit. A worker that fails anywhere is reported here, once.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePath
from typing import ClassVar

from textual import events, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.notifications import SeverityLevel
from textual.theme import Theme
from textual.timer import Timer

from imgtui.common.text import safe_text
from imgtui.service import Images, ImagesError
from imgtui.ui.account_cache import AccountState, account_cache, quota_text
from imgtui.ui.clipboard import choose_command, copy_with
from imgtui.ui.commands import ImgTuiCommands
from imgtui.ui.config import UiConfig, load_config, save_config
from imgtui.ui.screens.main import MainScreen
from imgtui.ui.styles import tcss_folder
from imgtui.ui.widgets.preview import PreviewMode
from imgtui.ui.worker_errors import WorkerFailed, describe_failure
from imgtui.workflows.demo_clock import DemoClock


def css_paths() -> list[Path]:
    """app.tcss: `imgtui/tcss` in an installed wheel, `tcss/` in a checkout. The forms bring
    modals.tcss with them (FormModal.CSS_PATH), loaded when the first one opens: parsing it
    and matching its rules was ~9% of the work before the first frame."""
    return [tcss_folder() / "app.tcss"]


class ImgTuiApp(App[None]):
    TITLE = "imgtui"
    COMMANDS = App.COMMANDS | {ImgTuiCommands}
    CSS_PATH: ClassVar[list[str | PurePath]] = [*css_paths()]  # Textual's list type (lists are invariant)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="app.quit", tooltip="Quit imgtui"),
        Binding("question_mark,f1", "help", "Help", id="app.help", tooltip="Every key, grouped by purpose"),
        Binding(
            "A",
            "account",
            "Account",
            show=False,
            id="app.account",
            tooltip="The account: variants, signing keys, flexible variants, usage",
        ),
        Binding(
            "z",
            "variant_sizes",
            "Variant sizes",
            show=False,
            id="view.variant_sizes",
            tooltip="Measure the image in each variant (pixels and bytes)",
        ),
    ]
    USAGE_REFRESH_SECONDS = 5.0  # after uploads or deletes: one stats call once they settle

    def __init__(
        self,
        images: Images,
        *,
        preview_mode: PreviewMode = "off",
        demo: bool = False,
        demo_clock: DemoClock | None = None,
        config: UiConfig | None = None,
    ) -> None:
        super().__init__()
        self.images = images
        self.preview_mode = preview_mode
        self.demo = demo
        self.demo_clock = demo_clock  # the library's clock while --demo fills it
        self.clipboard_note = "Copied"  # how the last copy went, in honest words
        self.credentials_note = ""  # "credentials from .env and wrangler.toml": the header says it
        self.config = config if config is not None else load_config()
        self.account = account_cache(images)
        self._usage_timer: Timer | None = None

        if self.config.keymap:
            # The user's keys (config `[keymap]`): the footer and the help show them.
            self.set_keymap(dict(self.config.keymap))
        if self.config.theme in self.available_themes:
            self.theme = self.config.theme  # before the main screen is styled: styled once

    def get_default_screen(self) -> MainScreen:
        """The main screen is the base of the stack: the first frame is the list, not an empty
        default screen first and the main screen pushed over it (measured ~12 ms sooner)."""
        return MainScreen(self.images, preview_mode=self.preview_mode, demo=self.demo)

    def on_mount(self) -> None:
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        self.account.subscribe(self._show_quota)
        # After the first screen: the account's variants, keys and usage, once per session.
        self.call_after_refresh(self._read_account)

    # ----------------------------------------------------------------- the account

    @work(group="account", exclusive=True, exit_on_error=False)
    async def _read_account(self) -> None:
        await self.account.state()

    def _show_quota(self, state: AccountState) -> None:
        """The header's title carries the quota: `imgtui · 1,234 / 100,000 images`."""
        quota = quota_text(state.usage)
        self.title = f"{self.TITLE} · {quota}" if quota else self.TITLE

    def images_changed(self, delta: int) -> None:
        """`delta` images were added (or removed, < 0): count them now, and read the real usage
        once the changes settle (a single stats call, never one per change)."""
        self.account.count_changed(delta)
        if self._usage_timer is not None:
            self._usage_timer.stop()
        self._usage_timer = self.set_timer(self.USAGE_REFRESH_SECONDS, self._refresh_usage)

    @work(group="account-usage", exclusive=True, exit_on_error=False)
    async def _refresh_usage(self) -> None:
        self._usage_timer = None
        await self.account.refresh_usage()

    def action_variant_sizes(self) -> None:
        """`z`: the details panel measures the current image in each variant (on demand)."""
        main = self.main_screen
        if main is None or self.screen is not main:
            return
        if not main.details.measure_variants():
            self.notify("No image shown to measure.", severity="warning", timeout=3, markup=False)

    def action_account(self) -> None:
        from imgtui.ui.screens.account import AccountScreen  # on first use: not needed to start

        if any(isinstance(screen, AccountScreen) for screen in self.screen_stack):
            return
        self.push_screen(AccountScreen(self.images))

    async def on_unmount(self) -> None:
        await self.images.aclose()

    # ----------------------------------------------------------------- theme

    def _remember_theme(self, theme: Theme) -> None:
        if theme.name == self.config.theme:
            return
        self.remember(theme=theme.name)

    def remember(self, **changes: object) -> None:
        """Keep a preference in the settings file (written in a thread, last one wins)."""
        if all(getattr(self.config, key) == value for key, value in changes.items()):
            return
        self.config = config = self.config.replace(**changes)
        self.run_worker(lambda: save_config(config), thread=True, group="config", exit_on_error=False)

    # ----------------------------------------------------------------- clipboard

    def copy_to_clipboard(self, text: str) -> None:
        """Copy by the configured route (ui/clipboard.py); `clipboard_note` says which."""
        command = choose_command(self.config.clipboard, os.environ)
        if command is not None and copy_with(command, text):
            self._clipboard = text  # Textual's own record of the last copy
            self.clipboard_note = f"Copied to the clipboard ({command[0]})"
            return
        super().copy_to_clipboard(text)
        self.clipboard_note = "Sent to the terminal's clipboard (OSC 52): some terminals ignore it"

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

    # ----------------------------------------------------------------- pastes

    async def on_event(self, event: events.Event) -> None:
        # Textual hands a paste straight to the focused widget: check its size here, once,
        # for every Input, TextArea and drop target of every screen (ui/paste.py).
        if isinstance(event, events.Paste) and not event.is_forwarded:
            from imgtui.ui.paste import paste_limit, paste_refusal  # TextArea: not needed to launch

            refusal = paste_refusal(len(event.text), paste_limit(self.focused))
            if refusal is not None:
                event.stop()
                self.notify(refusal, title="Paste refused", severity="warning", timeout=6, markup=False)
                return
        await super().on_event(event)

    # ----------------------------------------------------------------- notifications

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every toast (imgtui's, a widget's, Textual's own) is made terminal-safe here.

        imgtui's calls also pass `markup=False` (tests/ui/test_hostile_text.py checks): their
        messages quote server errors and file names, which must show as they are.
        """
        super().notify(
            safe_text(message, multiline=True),
            title=safe_text(title),
            severity=severity,
            timeout=timeout,
            markup=markup,
        )

    # ----------------------------------------------------------------- failures

    def on_worker_failed(self, message: WorkerFailed) -> None:
        """Every screen's and modal's failed worker ends here (ui/worker_errors.py)."""
        title = "Failed" if isinstance(message.error, ImagesError) else "Unexpected error"
        self.notify(describe_failure(message.error), title=title, severity="error", timeout=10, markup=False)
