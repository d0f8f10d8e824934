"""The download form: where to save one image or several, and how it went.

The saving itself (names, no overwrite, temp file then rename, all blocking calls in
threads) is `imgtui.workflows.downloads`. Nothing is overwritten unless the user ticks
"Overwrite": conflicts are listed before any write.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Checkbox, Input, Label, ProgressBar, Static

from imgtui.common.text import safe_text
from imgtui.service import ImageMetadata, Images, ImagesError
from imgtui.workflows.downloads import (
    FileExists,
    default_directory,
    plan_downloads,
    safe_filename,
    save_image,
)

from .common import ErrorLine, FormModal, describe_error, image_caption
from .widgets import TickBox


class DownloadModal(FormModal[list[Path]]):
    """Save one image to a file, or several into a folder; dismisses with the saved paths."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *FormModal.BINDINGS,
        Binding("ctrl+s", "save", "Save", id="download.save", tooltip="Save the files"),
    ]

    def __init__(
        self, images: Images, targets: list[ImageMetadata], *, directory: Path | None = None
    ) -> None:
        super().__init__()
        if not targets:
            raise ValueError("DownloadModal needs at least one image")
        self.images = images
        self.targets = list(targets)
        self.directory = directory
        self.saved: list[Path] = []
        self.failures: list[tuple[ImageMetadata, str]] = []
        self.attempted = False

    @property
    def single(self) -> bool:
        return len(self.targets) == 1

    def _default_target(self, directory: Path) -> Path:
        return directory / safe_filename(self.targets[0]) if self.single else directory

    def compose(self) -> ComposeResult:
        # Without a folder given, the field is filled once ~/Downloads has been looked at
        # in a thread (`_fill_default`): no stat on the event loop.
        default = str(self._default_target(self.directory)) if self.directory else ""
        with Vertical(id="dialog", classes="modal-dialog modal-wide") as dialog:
            if self.single:
                dialog.border_title = "Download image"
                dialog.border_subtitle = "ctrl+s save · esc cancel"
                yield Label(image_caption(self.targets[0]), classes="modal-intro")
                yield Label("Save as", classes="field-label")
            else:
                dialog.border_title = f"Download {len(self.targets)} images"
                dialog.border_subtitle = "ctrl+s save · esc cancel"
                yield Label(f"{len(self.targets)} images, saved under their filenames", classes="modal-intro")
                yield Label("Save into folder (created if missing)", classes="field-label")
            yield Input(default, id="target", classes="busy-off")
            yield TickBox("Overwrite existing files", id="overwrite", classes="busy-off")
            yield ProgressBar(total=len(self.targets), show_eta=False, id="download-progress")
            yield Static("", id="download-summary", classes="modal-text")
            yield ErrorLine(id="form-error", classes="form-error")
            with Horizontal(classes="modal-buttons"):
                yield Button("Save", variant="primary", id="save", classes="busy-off")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#download-progress").display = False
        self.query_one("#download-summary").display = False
        target = self.query_one("#target", Input)
        target.focus()
        target.cursor_position = len(target.value)
        if self.directory is None:
            self._fill_default()

    @work(exit_on_error=False, group="download-default")
    async def _fill_default(self) -> None:
        directory = await asyncio.to_thread(default_directory)
        target = self.query_one("#target", Input)
        if not target.value:  # nothing typed meanwhile
            target.value = str(self._default_target(directory))
            target.cursor_position = len(target.value)

    def action_cancel(self) -> None:
        if self.attempted and not self.busy and self.saved:
            self.dismiss(self.saved)
            return
        super().action_cancel()

    def _chosen(self) -> tuple[Path, bool]:
        """The typed path, and whether it surely names a folder (several images, or a
        trailing `/`); ValueError says what is wrong."""
        text = self.query_one("#target", Input).value.strip()
        if not text:
            raise ValueError("Type where to save")
        chosen = Path(os.path.expanduser(text))
        if not chosen.is_absolute():
            chosen = (self.directory or Path.cwd()) / chosen
        return chosen, not self.single or text.endswith(("/", os.sep))

    def action_save(self) -> None:
        self._save_pressed()

    @on(Input.Submitted, "#target")
    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        if self.busy:
            return
        try:
            chosen, as_folder = self._chosen()
        except ValueError as exc:
            self.show_error(str(exc))
            return
        self.clear_error()
        self.busy = True
        self._save(chosen, as_folder, self.query_one("#overwrite", Checkbox).value)

    @work(exit_on_error=False, exclusive=True, group="download")
    async def _save(self, chosen: Path, as_folder: bool, overwrite: bool) -> None:
        try:
            planned = await asyncio.to_thread(plan_downloads, self.targets, chosen, as_folder=as_folder)
        except (OSError, ValueError) as exc:
            self.busy = False
            self.show_error(
                f"{exc}" if isinstance(exc, ValueError) else f"Cannot use that folder: {exc.strerror or exc}"
            )
            return
        plan = planned.paths
        conflicts = [path for path in planned.conflicts if path not in self.saved]  # ours, from a first try
        if conflicts and not overwrite:
            self.busy = False
            names = ", ".join(path.name for path in conflicts[:5])
            more = f" and {len(conflicts) - 5} more" if len(conflicts) > 5 else ""
            self.show_error(
                f"Already exists: {names}{more}. Tick Overwrite to replace, or pick another name."
            )
            self.query_one("#overwrite", Checkbox).focus()
            return
        self.attempted = True
        progress = self.query_one("#download-progress", ProgressBar)
        progress.update(total=len(plan), progress=0)
        progress.display = not self.single
        self.failures = []
        done_before = set(self.saved)
        for image, target in zip(self.targets, plan, strict=True):
            if target in done_before:
                progress.advance(1)
                continue
            try:
                self.saved.append(await save_image(self.images, image.id, target, overwrite=overwrite))
            except FileExists:
                self.failures.append((image, f"{target.name} appeared meanwhile; not overwritten"))
            except ImagesError as exc:
                self.failures.append((image, describe_error(exc)))
            except OSError as exc:
                self.failures.append((image, f"Cannot write {target}: {exc.strerror or exc}"))
            progress.advance(1)
        self.busy = False
        if not self.failures:
            where = self.saved[0] if self.single else plan[0].parent
            self.notify(
                f"Saved {len(self.saved)} file{'s' if len(self.saved) != 1 else ''} to {where}",
                timeout=4,
                markup=False,
            )
            self.dismiss(self.saved)
            return
        lines = [f"Saved {len(self.saved)} of {len(self.targets)}."]
        lines += [safe_text(f"✗ {image.id}: {reason}") for image, reason in self.failures]
        summary = self.query_one("#download-summary", Static)
        summary.update(Content("\n".join(lines)))
        summary.display = True
        self.show_error(f"{len(self.failures)} could not be saved")
        self.query_one("#cancel", Button).label = "Close"
