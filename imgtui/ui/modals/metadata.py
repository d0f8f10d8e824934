"""Edit an image's metadata (a JSON object, at most 1024 bytes) and creator."""

from __future__ import annotations

from typing import ClassVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, TextArea

from imgtui.common.text import safe_text
from imgtui.service import ImageMetadata, Images, ImagesError
from imgtui.ui.display import plain

from .common import ErrorLine, FormModal, check_metadata_text, image_caption, pretty_metadata
from .widgets import json_editor

EDITOR_LINES = 12
MIN_EDITOR_LINES = 4
# Border 2, caption 2, label 2, size line 1, creator label 2 and field 3, buttons 4.
FORM_LINES_BESIDES_EDITOR = 16


class EditMetadataModal(FormModal[ImageMetadata]):
    """Replace (never merge) an image's metadata; dismisses with the updated record."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *FormModal.BINDINGS,
        Binding("ctrl+s", "save", "Save", id="modal.save", tooltip="Save the metadata"),
    ]

    def __init__(self, images: Images, image: ImageMetadata) -> None:
        super().__init__()
        self.images = images
        self.image = image
        # The creator as the field shows it: a control character in it appears escaped, and
        # the creator counts as changed only when the user edits that text.
        self.shown_creator = safe_text(image.creator or "")

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="modal-dialog modal-wide") as dialog:
            dialog.border_title = "Edit metadata"
            dialog.border_subtitle = "ctrl+a select all · ctrl+s save · esc cancel"
            yield Label(image_caption(self.image), classes="modal-intro")
            yield Label("Metadata (a JSON object; it replaces the current one)", classes="field-label")
            yield json_editor(pretty_metadata(self.image.meta), id="metadata", classes="busy-off")
            with Horizontal(classes="field-status"):
                yield Label("", id="metadata-size", classes="metadata-size")
                yield Label("", id="metadata-error", classes="field-error")
            yield Label("Creator", classes="field-label")
            yield Input(self.shown_creator, placeholder="none", id="creator", classes="busy-off")
            yield ErrorLine(id="form-error", classes="form-error")
            with Horizontal(classes="modal-buttons"):
                yield Button("Save", variant="primary", id="save", classes="busy-off")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self._fit_editor(self.size.height)
        self._validate()
        self.query_one("#metadata", TextArea).focus()

    def on_resize(self, event: events.Resize) -> None:
        self._fit_editor(event.size.height)

    def _fit_editor(self, screen_height: int) -> None:
        """The editor gets what the rest of the form leaves (at most 12 lines, at least 4),
        so the creator and Save stay on screen on a 24-line terminal."""
        room = int(screen_height * 0.95) - FORM_LINES_BESIDES_EDITOR
        self.query_one("#metadata", TextArea).styles.height = max(MIN_EDITOR_LINES, min(EDITOR_LINES, room))

    @on(TextArea.Changed, "#metadata")
    def _validate(self) -> bool:
        check = check_metadata_text(self.query_one("#metadata", TextArea).text)
        size_label = self.query_one("#metadata-size", Label)
        size_label.update(check.usage())
        size_label.set_class(check.size is not None and not check.ok, "-over")
        self.query_one("#metadata-error", Label).update(plain(check.error or ""))
        self.query_one("#save", Button).disabled = self.busy or not check.ok
        return check.ok

    def action_cancel(self) -> None:
        if not self.busy and self._edited():
            # What was typed must never vanish on a stray Escape.
            self.confirm_discard("Discard your changes?", lambda: self.dismiss(None))
            return
        super().action_cancel()

    def _edited(self) -> bool:
        """The fields differ from what the form opened with."""
        text = self.query_one("#metadata", TextArea).text
        creator = self.query_one("#creator", Input).value
        return text != pretty_metadata(self.image.meta) or creator != self.shown_creator

    @on(Button.Pressed, "#save")
    @on(Input.Submitted, "#creator")
    def action_save(self) -> None:
        if self.busy:
            return
        check = check_metadata_text(self.query_one("#metadata", TextArea).text)
        if not check.ok or check.value is None:
            self._validate()
            return
        creator = self.query_one("#creator", Input).value
        # None leaves the creator as is; an emptied field clears it.
        changed_creator = creator if creator != self.shown_creator else None
        self.clear_error()
        self.busy = True
        self._save(check.value, changed_creator)

    def watch_busy(self, busy: bool) -> None:
        super().watch_busy(busy)
        if not busy and self.is_mounted:
            self._validate()

    @work(exit_on_error=False, exclusive=True, group="metadata-save")
    async def _save(self, metadata: dict, creator: str | None) -> None:
        try:
            updated = await self.images.hosted.image(self.image.id).update(metadata=metadata, creator=creator)
        except ImagesError as exc:  # shown in the form; what was typed stays
            self.busy = False
            self.show_error(exc)
            return
        self.dismiss(updated)
