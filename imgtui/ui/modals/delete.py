"""Confirm, then delete one or several images; failures are listed, never lost."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Label, ProgressBar, Static

from imgtui.common.text import safe_text
from imgtui.service import ImageMetadata, Images, ImagesError

from .common import ErrorLine, FormModal, describe_error

SHOWN_TARGETS = 5  # for several images: the count and the first few


def _describe(image: ImageMetadata) -> str:
    """One terminal-safe line naming the image (the lines are joined into literal Content)."""
    return safe_text(f"{image.id}  {image.filename}" if image.filename else image.id)


class ConfirmDeleteModal(FormModal[list[str]]):
    """Delete `targets` after confirmation; dismisses with the ids that are gone.

    Cancel has the focus (safety); `y` or Enter on Delete confirms. An image that was already
    gone (`delete()` answered False) counts as deleted, and the form says so.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        *FormModal.BINDINGS,
        Binding("y", "confirm", "Delete", id="delete.confirm", tooltip="Delete (no undo)"),
        Binding("n", "cancel", "Keep", show=False, id="delete.keep"),
    ]

    def __init__(self, images: Images, targets: list[ImageMetadata]) -> None:
        super().__init__()
        if not targets:
            raise ValueError("ConfirmDeleteModal needs at least one image")
        self.images = images
        self.targets = list(targets)
        self.deleted: list[str] = []
        self.already_gone: list[str] = []
        self.failures: list[tuple[ImageMetadata, BaseException]] = []
        self.attempted = False

    def compose(self) -> ComposeResult:
        count = len(self.targets)
        with Vertical(id="dialog", classes="modal-dialog modal-danger") as dialog:
            dialog.border_title = "Delete image" if count == 1 else f"Delete {count} images"
            dialog.border_subtitle = "y delete · esc keep"
            if count == 1:
                yield Label("Delete this image? This cannot be undone.", classes="modal-intro")
            else:
                yield Label(f"Delete these {count} images? This cannot be undone.", classes="modal-intro")
            names = [f"  • {_describe(image)}" for image in self.targets[:SHOWN_TARGETS]]
            if count > SHOWN_TARGETS:
                names.append(f"  … and {count - SHOWN_TARGETS} more")
            yield Static(Content("\n".join(names)), id="delete-targets", classes="modal-text")
            yield ProgressBar(total=count, show_eta=False, id="delete-progress")
            yield Static("", id="delete-summary", classes="modal-text")
            yield ErrorLine(id="form-error", classes="form-error")
            with Horizontal(classes="modal-buttons"):
                yield Button("Delete", variant="error", id="delete", classes="busy-off")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#delete-progress").display = False
        self.query_one("#delete-summary").display = False
        self.query_one("#cancel", Button).focus()

    def action_cancel(self) -> None:
        if self.attempted and not self.busy:
            self.dismiss(self.deleted)  # what is gone must reach the list, even on Escape
            return
        super().action_cancel()

    @on(Button.Pressed, "#delete")
    def action_confirm(self) -> None:
        if self.busy or (self.attempted and not self.failures):
            return
        self.clear_error()
        self.busy = True
        progress = self.query_one("#delete-progress", ProgressBar)
        progress.update(total=len(self.targets), progress=len(self.deleted))
        progress.display = len(self.targets) > 1
        self._delete_all()

    @work(exit_on_error=False, exclusive=True, group="delete")
    async def _delete_all(self) -> None:
        # One by one: deletes are quick, and the summary follows the order shown.
        progress = self.query_one("#delete-progress", ProgressBar)
        self.attempted = True
        self.failures = []
        for image in self.targets:
            if image.id in self.deleted:
                continue  # a retry skips what is already gone
            try:
                existed = await self.images.hosted.image(image.id).delete()
            except ImagesError as exc:
                self.failures.append((image, exc))
            else:
                self.deleted.append(image.id)
                if not existed:
                    self.already_gone.append(image.id)
            progress.advance(1)
        self.busy = False
        if not self.failures and not self.already_gone:
            self.dismiss(self.deleted)
            return
        self._show_summary()

    def _show_summary(self) -> None:
        lines: list[str] = []
        if len(self.targets) > 1 or self.failures:
            lines.append(f"Deleted {len(self.deleted)} of {len(self.targets)}.")
        if self.already_gone:
            gone = safe_text(", ".join(self.already_gone[:SHOWN_TARGETS]))
            extra = len(self.already_gone) - SHOWN_TARGETS
            lines.append(
                f"Already gone (deleted elsewhere): {gone}{f' and {extra} more' if extra > 0 else ''}."
            )
        lines.extend(
            f"✗ {_describe(image)}: {safe_text(describe_error(exc))}" for image, exc in self.failures
        )
        summary = self.query_one("#delete-summary", Static)
        summary.update(Content("\n".join(lines)))
        summary.display = True
        close = self.query_one("#cancel", Button)
        close.label = "Close"
        if self.failures:
            self.query_one("#delete", Button).label = "Retry failed"
            self.show_error(f"{len(self.failures)} could not be deleted; Retry or Close")
        else:
            self.query_one("#delete", Button).display = False
        close.focus()
