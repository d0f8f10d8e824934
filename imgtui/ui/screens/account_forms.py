"""The account screen's forms: a variant (new or edited), a new signing key, and a confirmed
action (deleting a variant or a key). Each calls `images.account` itself and shows a failure
on its own line as `ERROR code: message`, so a refused change leaves the form open.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ClassVar, TypeVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Select, Static

from imgtui.service import Images, ImagesError
from imgtui.service.account import (
    METADATA_HANDLING,
    VARIANT_FITS,
    SigningKey,
    Variant,
    VariantOptions,
    check_key_name,
    check_variant_id,
    check_variant_options,
)
from imgtui.service.rules import MAX_SIDE_PX
from imgtui.ui.display import plain
from imgtui.ui.modals.common import ErrorLine, FormModal
from imgtui.ui.modals.widgets import TickBox

T = TypeVar("T")

# What each fit does, in the words of https://developers.cloudflare.com/images/transform-images/transform-via-url/#fit
FIT_HINTS = {
    "scale-down": "shrink to fit inside, never enlarge",
    "contain": "fit inside, enlarging if needed",
    "cover": "fill the box, cropping the overflow",
    "crop": "like cover, but never enlarge",
    "pad": "fit inside and pad to the exact size",
}
METADATA_HINTS = {"keep": "keep all EXIF", "copyright": "keep only copyright", "none": "strip EXIF"}


def _side(text: str, name: str) -> int:
    """A width or height as typed; ValueError with the form's message."""
    text = text.strip()
    if not text.isdigit() or not 1 <= int(text) <= MAX_SIDE_PX:
        raise ValueError(f"{name} must be a whole number of pixels from 1 to {MAX_SIDE_PX}")
    return int(text)


class VariantFormModal(FormModal[Variant]):
    """Create a variant, or edit one (its name is fixed); dismisses with the saved variant."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *FormModal.BINDINGS,
        Binding("ctrl+s", "save", "Save", id="variant.save", tooltip="Save the variant"),
    ]

    def __init__(self, images: Images, variant: Variant | None = None) -> None:
        super().__init__()
        self.images = images
        self.variant = variant  # None: a new one

    def compose(self) -> ComposeResult:
        options = self.variant.options if self.variant else VariantOptions(width=320, height=320)
        with Vertical(id="dialog", classes="modal-dialog") as dialog:
            dialog.border_title = "Edit variant" if self.variant else "New variant"
            dialog.border_subtitle = "ctrl+s save · esc cancel"
            yield Label("Name (letters and digits)", classes="field-label")
            yield Input(
                self.variant.id if self.variant else "",
                placeholder="e.g. thumbnail",
                id="variant-name",
                disabled=self.variant is not None,  # Cloudflare's PATCH cannot rename
                classes="" if self.variant else "busy-off",
            )
            yield Label("Fit", classes="field-label")
            yield Select(
                [(f"{fit}: {FIT_HINTS[fit]}", fit) for fit in VARIANT_FITS],
                value=options.fit,
                allow_blank=False,
                id="variant-fit",
                classes="busy-off",
            )
            with Horizontal(classes="variant-sides"):
                with Vertical():
                    yield Label("Width (px)", classes="field-label")
                    yield Input(str(options.width), type="integer", id="variant-width", classes="busy-off")
                with Vertical():
                    yield Label("Height (px)", classes="field-label")
                    yield Input(str(options.height), type="integer", id="variant-height", classes="busy-off")
            yield Label("Metadata", classes="field-label")
            yield Select(
                [(f"{name}: {METADATA_HINTS[name]}", name) for name in METADATA_HANDLING],
                value=options.metadata,
                allow_blank=False,
                id="variant-metadata",
                classes="busy-off",
            )
            yield TickBox(
                "Never require signed URLs (serves even private images)",
                self.variant.never_require_signed_urls if self.variant else False,
                id="variant-never-signed",
                classes="busy-off",
            )
            yield ErrorLine(id="form-error", classes="form-error")
            with Horizontal(classes="modal-buttons"):
                yield Button("Save", variant="primary", id="save", classes="busy-off")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#variant-fit" if self.variant else "#variant-name").focus()

    def _read(self) -> tuple[str, VariantOptions, bool]:
        """The typed values, checked by the service's own rules (ValueError or ImagesError)."""
        name = check_variant_id(self.query_one("#variant-name", Input).value.strip())
        options = check_variant_options(
            VariantOptions(
                fit=self.query_one("#variant-fit", Select).value,  # type: ignore[arg-type]  # allow_blank=False
                width=_side(self.query_one("#variant-width", Input).value, "Width"),
                height=_side(self.query_one("#variant-height", Input).value, "Height"),
                metadata=self.query_one("#variant-metadata", Select).value,  # type: ignore[arg-type]
            )
        )
        return name, options, self.query_one("#variant-never-signed", TickBox).value

    def action_save(self) -> None:
        self._save()

    @on(Button.Pressed, "#save")
    @on(Input.Submitted)
    def _save(self) -> None:
        if self.busy:
            return
        try:
            name, options, never = self._read()
        except ValueError as error:
            self.show_error(str(error))
            return
        except ImagesError as error:
            self.show_error(error)
            return
        self.clear_error()
        self.busy = True
        self._submit(name, options, never)

    @work(exit_on_error=False, exclusive=True, group="variant-form")
    async def _submit(self, name: str, options: VariantOptions, never: bool) -> None:
        variants = self.images.account.variants
        try:
            if self.variant is None:
                saved = await variants.create(name, options, never_require_signed_urls=never)
            else:
                saved = await variants.edit(name, options, never_require_signed_urls=never)
        except ImagesError as error:
            self.busy = False
            self.show_error(error)
            return
        self.dismiss(saved)


class KeyFormModal(FormModal[list[SigningKey]]):
    """Create a signing key by name; dismisses with all the account's keys."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *FormModal.BINDINGS,
        Binding("ctrl+s", "save", "Create", id="key.save", tooltip="Create the signing key"),
    ]

    def __init__(self, images: Images, existing: list[str]) -> None:
        super().__init__()
        self.images = images
        self.existing = existing

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="modal-dialog") as dialog:
            dialog.border_title = "New signing key"
            dialog.border_subtitle = "ctrl+s create · esc cancel"
            yield Static(
                "A signed URL verifies with any of the account's keys; deleting a key makes the "
                "URLs it signed stop working.",
                classes="modal-text",
            )
            yield Label("Name (letters and digits)", classes="field-label")
            yield Input(placeholder="e.g. mobile", id="key-name", classes="busy-off")
            yield Static("", id="key-warning", classes="modal-warning")
            yield ErrorLine(id="form-error", classes="form-error")
            with Horizontal(classes="modal-buttons"):
                yield Button("Create", variant="primary", id="save", classes="busy-off")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#key-warning").display = False
        self.query_one("#key-name").focus()

    @on(Input.Changed, "#key-name")
    def _typed(self, event: Input.Changed) -> None:
        # Cloudflare's PUT gives an existing name a new value: the old URLs stop verifying.
        taken = event.value.strip() in self.existing
        warning = self.query_one("#key-warning", Static)
        warning.update("A key by this name exists: it gets a NEW value, and URLs it signed stop working.")
        warning.display = taken

    def action_save(self) -> None:
        self._save()

    @on(Button.Pressed, "#save")
    @on(Input.Submitted, "#key-name")
    def _save(self) -> None:
        if self.busy:
            return
        try:
            name = check_key_name(self.query_one("#key-name", Input).value.strip())
        except ImagesError as error:
            self.show_error(error)
            return
        self.clear_error()
        self.busy = True
        self._submit(name)

    @work(exit_on_error=False, exclusive=True, group="key-form")
    async def _submit(self, name: str) -> None:
        try:
            keys = await self.images.account.keys.create(name)
        except ImagesError as error:
            self.busy = False
            self.show_error(error)
            return
        self.dismiss(keys)


class ConfirmActionModal(FormModal[T]):
    """ "Delete variant thumbnail?": `run()` only on a yes, its failure shown here; dismisses
    with what `run()` returned. Escape or `n` keeps everything (the focused button is Keep)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *FormModal.BINDINGS,
        Binding("y", "confirm", "Delete", id="confirm.yes", tooltip="Do it"),
        Binding("n", "cancel", "Keep", show=False, id="confirm.no"),
    ]

    def __init__(self, title: str, question: str, run: Callable[[], Awaitable[T]]) -> None:
        super().__init__()
        self.title_text = title
        self.question = question
        self.run = run

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="modal-dialog modal-danger") as dialog:
            dialog.border_title = plain(self.title_text)
            dialog.border_subtitle = "y delete · esc keep"
            yield Static(plain(self.question, multiline=True), id="confirm-question", classes="modal-text")
            yield ErrorLine(id="form-error", classes="form-error")
            with Horizontal(classes="modal-buttons"):
                yield Button("Delete", variant="error", id="confirm", classes="busy-off")
                yield Button("Keep", variant="primary", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    @on(Button.Pressed, "#confirm")
    def action_confirm(self) -> None:
        if self.busy:
            return
        self.clear_error()
        self.busy = True
        self._run()

    @work(exit_on_error=False, exclusive=True, group="confirm")
    async def _run(self) -> None:
        try:
            result = await self.run()
        except ImagesError as error:
            self.busy = False
            self.show_error(error)
            return
        self.dismiss(result)
