"""Make an image private (signed URLs only) or public, and copy a signed delivery URL."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Input, Label, Select, Static

from imgtui.service import ErrorCode, ImageMetadata, Images, ImagesError
from imgtui.service.rules import is_custom_id
from imgtui.ui.account_cache import AccountState, account_cache
from imgtui.ui.display import plain

from .common import ErrorLine, FormModal, image_caption

CUSTOM_ID_PRIVATE_REASON = (
    "Images uploaded with a custom ID cannot require signed URLs (Cloudflare refuses it with "
    f"ERROR {ErrorCode.SIGNED_URLS_WITH_CUSTOM_ID:d}). To make it private, upload it again without a custom ID."
)

HOUR = 3600
DAY = 24 * HOUR
# (label, seconds): None = never expires; "custom" reveals a seconds field.
EXPIRY_CHOICES: list[tuple[str, int | str | None]] = [
    ("1 hour", HOUR),
    ("1 day", DAY),
    ("7 days", 7 * DAY),
    ("30 days", 30 * DAY),
    ("Never", None),
    ("Custom (seconds)…", "custom"),
]
_NEVER = "never"  # Select cannot hold None as a value: it means "nothing selected"


_CURRENT_KEY = "current"  # the key the backend signs with when none is named (not a valid key name)


def variant_names(image: ImageMetadata, account: AccountState | None = None) -> list[str]:
    """The account's variants when it could be read, else the image's, from its delivery URLs
    (`…/<id>/<variant>`)."""
    if account is not None and account.available and account.variants:
        return account.variant_names
    names: list[str] = []
    for url in image.variants:
        name = url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]
        if name and name not in names:
            names.append(name)
    return names or ["public"]


class SignedUrlsModal(FormModal[ImageMetadata]):
    """Toggle `requireSignedURLs`; dismisses with the updated record."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *FormModal.BINDINGS,
        Binding("ctrl+s", "confirm", "Apply", id="signed.apply", tooltip="Make it private or public"),
    ]

    def __init__(self, images: Images, image: ImageMetadata) -> None:
        super().__init__()
        self.images = images
        self.image = image
        self.make_private = not image.require_signed_urls
        self.refused = self.make_private and is_custom_id(image.id)

    def compose(self) -> ComposeResult:
        private = self.image.require_signed_urls
        with Vertical(id="dialog", classes="modal-dialog") as dialog:
            dialog.border_title = "Signed URLs"
            dialog.border_subtitle = "ctrl+s apply · esc cancel"
            yield Label(image_caption(self.image), classes="modal-intro")
            state = (
                "[b]Private[/b]: only signed URLs deliver it."
                if private
                else "[b]Public[/b]: anyone with its URL can see it."
            )
            yield Static(f"Now: {state}", id="signed-state")
            if self.make_private:
                effect = (
                    "Making it private means only signed URLs (with a signature, and an expiry if "
                    "you choose one) deliver it; plain URLs stop working and cached copies are purged."
                )
            else:
                effect = "Making it public means its plain URLs deliver it again; signed URLs keep working."
            yield Static(effect, id="signed-effect", classes="modal-text")
            if self.refused:
                yield Static(CUSTOM_ID_PRIVATE_REASON, id="signed-refused", classes="modal-warning")
            yield ErrorLine(id="form-error", classes="form-error")
            with Horizontal(classes="modal-buttons"):
                yield Button(
                    "Make private" if self.make_private else "Make public",
                    variant="warning" if self.make_private else "primary",
                    id="confirm",
                    disabled=self.refused,
                    classes="busy-off",
                )
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#cancel" if self.refused else "#confirm", Button).focus()

    def watch_busy(self, busy: bool) -> None:
        super().watch_busy(busy)
        self.query_one("#confirm", Button).disabled = busy or self.refused

    def action_confirm(self) -> None:
        self._confirm()

    @on(Button.Pressed, "#confirm")
    def _confirm(self) -> None:
        if self.busy or self.refused:
            return
        self.clear_error()
        self.busy = True
        self._apply()

    @work(exit_on_error=False, exclusive=True, group="signed-urls")
    async def _apply(self) -> None:
        try:
            updated = await self.images.hosted.image(self.image.id).update(
                require_signed_urls=self.make_private
            )
        except ImagesError as exc:
            self.busy = False
            self.show_error(exc)
            return
        self.dismiss(updated)


class SignedUrlCopyModal(FormModal[str]):
    """Make a signed URL for a variant and expiry, copy it, show it; dismisses with the URL."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *FormModal.BINDINGS,
        Binding("ctrl+s", "copy_url", "Copy", id="signed.copy", tooltip="Make and copy the signed URL"),
    ]

    def __init__(self, images: Images, image: ImageMetadata) -> None:
        super().__init__()
        self.images = images
        self.image = image
        self.url: str | None = None  # the URL shown for the current choices
        self.copied: str | None = None  # the last URL put on the clipboard
        self.account = account_cache(images).cached  # the session's reading, if made yet

    def compose(self) -> ComposeResult:
        variants = variant_names(self.image, self.account)
        with Vertical(id="dialog", classes="modal-dialog") as dialog:
            dialog.border_title = "Copy signed URL"
            dialog.border_subtitle = "ctrl+s copy · esc cancel"
            yield Label(image_caption(self.image), classes="modal-intro")
            yield Label("Variant", classes="field-label")
            yield Select(
                [(plain(name), name) for name in variants],  # names come from the backend's URLs
                value="public" if "public" in variants else variants[0],
                allow_blank=False,
                id="variant",
                classes="busy-off",
            )
            yield Label("Signing key", classes="field-label", id="key-label")
            yield Select(
                self._key_options(),
                value=_CURRENT_KEY,
                allow_blank=False,
                id="key",
                classes="busy-off",
            )
            yield Label("Expires after", classes="field-label")
            yield Select(
                [(label, _NEVER if seconds is None else seconds) for label, seconds in EXPIRY_CHOICES],
                value=DAY,
                allow_blank=False,
                id="expiry",
                classes="busy-off",
            )
            yield Input(
                placeholder="seconds, e.g. 900",
                type="integer",
                id="custom-seconds",
                classes="busy-off",
            )
            yield Static("", id="signed-url", classes="signed-url")
            yield ErrorLine(id="form-error", classes="form-error")
            with Horizontal(classes="modal-buttons"):
                yield Button("Copy URL", variant="primary", id="copy", classes="busy-off")
                yield Button("Cancel", id="cancel")

    def _key_options(self) -> list[tuple[Content | str, str]]:
        names = self.account.key_names if self.account is not None and self.account.available else []
        return [("the account's current key", _CURRENT_KEY), *((plain(name), name) for name in names)]

    def on_mount(self) -> None:
        self.query_one("#custom-seconds").display = False
        self.query_one("#signed-url").display = False
        self._show_keys()
        self.query_one("#copy", Button).focus()
        if self.account is None:
            self._read_account()

    def _show_keys(self) -> None:
        # One key (or an account that cannot say): nothing to choose, so no field.
        several = self.account is not None and self.account.available and len(self.account.keys) > 1
        self.query_one("#key").display = several
        self.query_one("#key-label").display = several

    @work(exit_on_error=False, exclusive=True, group="signed-url-account")
    async def _read_account(self) -> None:
        """First use in this session: read the account's variants and keys, then offer them."""
        self.account = await account_cache(self.images).state()
        if not self.account.available:
            return
        variant = self.query_one("#variant", Select)
        chosen = variant.value
        names = variant_names(self.image, self.account)
        with self.prevent(Select.Changed):
            variant.set_options([(plain(name), name) for name in names])
            variant.value = chosen if chosen in names else ("public" if "public" in names else names[0])
            key = self.query_one("#key", Select)
            key.set_options(self._key_options())
            key.value = _CURRENT_KEY
        self._show_keys()

    @on(Select.Changed, "#expiry")
    def _expiry_changed(self, event: Select.Changed) -> None:
        custom = event.value == "custom"
        field = self.query_one("#custom-seconds", Input)
        field.display = custom
        if custom:
            field.focus()

    @on(Select.Changed)
    @on(Input.Changed, "#custom-seconds")
    def _choice_changed(self) -> None:
        """Another variant or expiry after a URL was made: offer to make (and copy) a new one."""
        if self.url is None:
            return
        self.url = None
        self.query_one("#signed-url").display = False
        self.query_one("#copy", Button).label = "Copy URL"
        self.query_one("#cancel", Button).display = True  # "Close": the last URL is still copied

    def _expires_in(self) -> int | None:
        """Seconds until expiry, None for never; ValueError with a message when invalid."""
        choice = self.query_one("#expiry", Select).value
        if choice == _NEVER:
            return None
        if choice == "custom":
            text = self.query_one("#custom-seconds", Input).value.strip()
            if not text.isdigit() or int(text) <= 0:
                raise ValueError("Custom expiry must be a whole number of seconds above 0")
            return int(text)
        assert isinstance(choice, int)  # allow_blank=False; the only str choices are handled above
        return choice

    def action_cancel(self) -> None:
        # Once made, the URL is on the clipboard: closing hands it back rather than "nothing".
        if self.copied is not None and not self.busy:
            self.dismiss(self.copied)
            return
        super().action_cancel()

    def action_copy_url(self) -> None:
        self._copy()

    @on(Button.Pressed, "#copy")
    @on(Input.Submitted, "#custom-seconds")
    def _copy(self) -> None:
        if self.busy:
            return
        if self.url is not None:
            self.dismiss(self.url)
            return
        try:
            expires_in = self._expires_in()
        except ValueError as exc:
            self.show_error(str(exc))
            return
        variant = str(self.query_one("#variant", Select).value)
        key = str(self.query_one("#key", Select).value)
        self.clear_error()
        self.busy = True
        self._make(variant, expires_in, None if key == _CURRENT_KEY else key)

    @work(exit_on_error=False, exclusive=True, group="signed-url")
    async def _make(self, variant: str, expires_in: int | None, key_name: str | None) -> None:
        try:
            url = await self.images.hosted.image(self.image.id).signed_url(variant, expires_in, key_name)
        except ImagesError as exc:
            self.busy = False
            self.show_error(exc)
            return
        self.url = self.copied = url
        self.app.copy_to_clipboard(url)
        self.busy = False
        shown = self.query_one("#signed-url", Static)
        shown.update(plain(url))
        shown.display = True
        copy = self.query_one("#copy", Button)
        copy.label = "Done"
        copy.focus()
        # The URL is copied: nothing to cancel, and "Done" already closes; one button is enough.
        cancel = self.query_one("#cancel", Button)
        cancel.label = "Close"
        cancel.display = False
        note = getattr(self.app, "clipboard_note", "Copied")
        self.notify(f"Signed URL: {note}", timeout=3, markup=False)
