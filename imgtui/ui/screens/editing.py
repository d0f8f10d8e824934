"""The main screen's editing actions: each opens one of the modal forms and, when it
closes, updates the list and details in place (no reload).

Kept apart from browsing (main.py) so each file holds one concern. The forms do their own
service calls and show failures inside themselves; this module only routes results.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from textual import events
from textual.binding import Binding

if TYPE_CHECKING:
    from types import ModuleType

    from textual.app import App

    from imgtui.service import ImageMetadata, Images
    from imgtui.ui.widgets.image_table import ImageTable

# What Enter offers on a row: (label, key, action), each also reachable by its key.
ROW_ACTIONS = [
    ("Edit metadata and creator", "e", "edit_metadata"),
    ("Require signed URLs / make public", "p", "signed_urls"),
    ("Copy the id or a delivery URL", "y", "copy"),
    ("Copy a signed URL", "Y", "copy_signed_url"),
    ("Download the original", "o", "download"),
    ("Delete", "d", "delete"),
]


def _forms() -> ModuleType:
    """The modal forms, imported on first use: they pull in httpx (URL uploads) and friends,
    which cost ~40 ms of launch time that the first page should not wait for."""
    from imgtui.ui import modals

    return modals


EDIT_BINDINGS = [
    Binding("e", "edit_metadata", "Metadata", id="edit.metadata", tooltip="Edit metadata JSON and creator"),
    Binding(
        "p",
        "signed_urls",
        "Private",
        show=False,
        id="edit.private",
        tooltip="Require signed URLs, or make public",
    ),
    Binding("u", "upload", "Upload", id="edit.upload", tooltip="Upload files, folders or URLs"),
    Binding("d,delete", "delete", "Delete", id="edit.delete", tooltip="Delete the marked or current image"),
    Binding("o", "download", "Download", show=False, id="edit.download", tooltip="Save originals to disk"),
    Binding(
        "Y",
        "copy_signed_url",
        "Sign URL",
        show=False,
        id="copy.signed",
        tooltip="Copy a signed URL with an expiry",
    ),
]


class EditingActions:
    """Mixed into MainScreen (which provides `images`, `table`, `refresh_details`, `notify`)."""

    images: Images  # the service the screen was given

    if TYPE_CHECKING:
        app: App[object]  # Screen's own

        @property
        def table(self) -> ImageTable: ...

        def refresh_details(self) -> None: ...
        def forget_thumbnails(self, ids: list[str]) -> None: ...
        def _update_status(self) -> None: ...
        def notify(self, message: str, **kwargs: object) -> None: ...

    def _targets(self) -> list[ImageMetadata]:
        """What a bulk action acts on: the marked images, else the highlighted one."""
        current = self.table.current_image
        return self.table.marked_images or ([current] if current else [])

    def _nothing_selected(self) -> None:
        self.notify("No image selected: the list is empty.", severity="warning", timeout=3, markup=False)

    # ----------------------------------------------------------------- results

    def _replaced(self, updated: ImageMetadata) -> None:
        self.table.replace_image(updated)
        self.refresh_details()

    def _metadata_saved(self, updated: ImageMetadata | None) -> None:
        if updated is not None:
            self._replaced(updated)
            self.notify(f"Metadata saved for {updated.id}", timeout=3, markup=False)

    def _access_changed(self, updated: ImageMetadata | None) -> None:
        if updated is not None:
            self._replaced(updated)
            access = "private: only signed URLs deliver it" if updated.require_signed_urls else "public"
            self.notify(f"{updated.id} is now {access}", timeout=4, markup=False)

    def _count_changed(self, delta: int) -> None:
        """The header's quota follows uploads and deletes (the App counts, then reads once)."""
        images_changed = getattr(self.app, "images_changed", None)
        if images_changed is not None:
            images_changed(delta)

    def _uploaded(self, uploaded: list[ImageMetadata] | None) -> None:
        if uploaded:
            self.table.add_images(uploaded)
            self.refresh_details()
            self._update_status()
            self._count_changed(len(uploaded))

    def _deleted(self, ids: list[str] | None) -> None:
        if ids:
            # remove_images unmarks what is gone; images that failed stay marked for a retry.
            self.table.remove_images(ids)
            self.forget_thumbnails(ids)  # grid_view.py: their pictures leave memory too
            self.refresh_details()
            self._update_status()
            self._count_changed(-len(ids))
            self.notify(f"Deleted {len(ids)} image{'s' if len(ids) != 1 else ''}.", timeout=4, markup=False)

    # ----------------------------------------------------------------- actions

    def action_edit_metadata(self) -> None:
        if (image := self.table.current_image) is None:
            return self._nothing_selected()
        self.app.push_screen(_forms().EditMetadataModal(self.images, image), callback=self._metadata_saved)

    def action_signed_urls(self) -> None:
        if (image := self.table.current_image) is None:
            return self._nothing_selected()
        self.app.push_screen(_forms().SignedUrlsModal(self.images, image), callback=self._access_changed)

    def action_copy_signed_url(self) -> None:
        if (image := self.table.current_image) is None:
            return self._nothing_selected()
        self.app.push_screen(_forms().SignedUrlCopyModal(self.images, image))

    def action_upload(self) -> None:
        self.app.push_screen(_forms().UploadModal(self.images), callback=self._uploaded)

    def action_delete(self) -> None:
        if not (targets := self._targets()):
            return self._nothing_selected()
        self.app.push_screen(_forms().ConfirmDeleteModal(self.images, targets), callback=self._deleted)

    def action_download(self) -> None:
        if not (targets := self._targets()):
            return self._nothing_selected()
        # The folder the last download went to (the config), else ~/Downloads.
        saved = getattr(getattr(self.app, "config", None), "download_dir", None)
        directory = Path(saved) if isinstance(saved, str) and saved else None
        self.app.push_screen(
            _forms().DownloadModal(self.images, targets, directory=directory), callback=self._downloaded
        )

    def _downloaded(self, saved: list[Path] | None) -> None:
        remember = getattr(self.app, "remember", None)
        if saved and remember is not None:
            remember(download_dir=str(saved[0].parent))

    def on_image_table_selected(self, event: ImageTable.Selected) -> None:
        """Enter (or a double click) on a row: a menu of what can be done with it."""
        from imgtui.ui.screens.choices import Choice, ChoiceScreen

        choices = [Choice(label, action, key=key) for label, key, action in ROW_ACTIONS]
        actions = {action for _label, _key, action in ROW_ACTIONS}

        def run(chosen: str | None) -> None:
            if chosen in actions:
                getattr(self, f"action_{chosen}")()

        self.app.push_screen(ChoiceScreen(event.image.id, choices), callback=run)

    async def on_paste(self, event: events.Paste) -> None:
        """A drop on the terminal pastes paths: open the upload form with them, Upload focused."""
        event.stop()
        from imgtui.workflows.dropparse import parse_drop

        # parse_drop stats files: keep that off the event loop.
        result = await asyncio.to_thread(parse_drop, event.text)
        if result.files or result.urls:
            form = _forms().UploadModal(self.images, result.files, urls=result.urls, problems=result.problems)
            self.app.push_screen(form, callback=self._uploaded)
        elif event.text.strip():
            detail = "\n".join(result.problems[:5]) or "The pasted text names no image file."
            self.notify(detail, title="Nothing to upload", severity="warning", timeout=6, markup=False)
