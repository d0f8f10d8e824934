"""Small pickers of the browse screen: "copy what?" and "which creator?"."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from imgtui.common.text import safe_text
from imgtui.service import ImageMetadata, Images, ImagesError
from imgtui.ui.account_cache import account_cache, variant_rows
from imgtui.ui.display import plain
from imgtui.ui.worker_errors import ForwardsWorkerErrors


@dataclass(frozen=True, slots=True)
class Choice:
    label: str
    value: str
    key: str | None = None  # a key that picks it at once (shown instead of the value)


COPY_SIGNED_SECONDS = 3600  # a signed URL from the copy menu is valid one hour (Y chooses others)


async def copy_choices(
    images: Images,
    image: ImageMetadata | None,
    marked: list[ImageMetadata],
    *,
    on_error: Callable[[ImagesError], object] | None = None,
) -> list[Choice]:
    """What `y` offers: the marked ids, the image's id and filename, and one URL per variant
    of the account (its real list, read once per session; the image's own URLs when the
    account cannot say). A private image gets signed URLs, except for a variant that never
    requires them. A URL that cannot be signed is left out, and `on_error` hears why."""
    choices: list[Choice] = []
    if len(marked) > 1:
        choices.append(Choice(f"IDs of the {len(marked)} marked images", "\n".join(m.id for m in marked)))
    if image is None:
        return choices
    choices.append(Choice("ID", image.id))
    if image.filename:
        choices.append(Choice("Filename", image.filename))
    state = await account_cache(images).state()
    handle = images.hosted.image(image.id)
    for row in variant_rows(image, state if state.available else None):
        if not row.signed:
            choices.append(Choice(f"{row.name} URL", row.url))
            continue
        try:
            signed = await handle.signed_url(row.name, expires_in=COPY_SIGNED_SECONDS)
        except ImagesError as error:
            if on_error is not None:
                on_error(error)
            continue
        choices.append(Choice(f"{row.name} URL (signed, valid 1 hour)", signed))
    return choices


class ChoiceScreen(ForwardsWorkerErrors, ModalScreen[str | None]):
    """Pick one value from a short list; dismisses with the value, or None on escape."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "cancel", "Cancel", id="choice.cancel", tooltip="Close without choosing"),
    ]

    def __init__(self, title: str, choices: list[Choice]) -> None:
        super().__init__(classes="picker")
        self.title_text = title
        self.choices = choices

    def compose(self) -> ComposeResult:
        with Vertical(classes="picker-box") as box:
            box.border_title = plain(self.title_text)  # an image id: never markup
            box.border_subtitle = "enter choose · esc cancel"
            # Labels name variants and values are ids, names and URLs from the backend: they
            # enter the markup only as $variables (literal), escaped for the terminal.
            options = [
                Option(
                    Content.from_markup(
                        "[b]$key[/b]  $label", key=safe_text(choice.key), label=safe_text(choice.label)
                    )
                    if choice.key
                    else Content.from_markup(
                        "[b]$label[/b]\n[dim]$value[/dim]",
                        label=safe_text(choice.label),
                        value=_preview(choice.value),
                    ),
                    id=str(index),
                )
                for index, choice in enumerate(self.choices)
            ]
            yield OptionList(*options, id="choices")

    @on(OptionList.OptionSelected, "#choices")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.choices[int(event.option_id or 0)].value)

    def on_key(self, event: events.Key) -> None:
        for choice in self.choices:
            if choice.key is not None and event.character == choice.key:
                event.stop()
                self.dismiss(choice.value)
                return

    def action_cancel(self) -> None:
        self.dismiss(None)


class CreatorScreen(ForwardsWorkerErrors, ModalScreen[str | None]):
    """Type a creator (or pick one seen in the loaded rows). Empty means every creator;
    dismisses with None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="creator.cancel", tooltip="Keep the current filter"),
    ]

    def __init__(self, current: str | None, known: list[str]) -> None:
        super().__init__(classes="picker")
        self.current = current
        self.known = known
        # The field shows the current creator escaped; submitting that text unchanged keeps it.
        self.shown_current = safe_text(current or "")

    def compose(self) -> ComposeResult:
        with Vertical(classes="picker-box") as box:
            box.border_title = "List one creator's images"
            box.border_subtitle = "enter apply · empty = everyone · esc cancel"
            yield Label("Creator (server-side filter)")
            yield Input(self.shown_current, placeholder="e.g. alice (empty: every creator)", id="creator")
            if self.known:
                yield Label("Seen in the loaded images", classes="picker-hint")
                yield OptionList(
                    *[Option(plain(name), id=str(i)) for i, name in enumerate(self.known)], id="known"
                )

    def on_key(self, event: events.Key) -> None:
        # Down from the text field walks into the list of known creators.
        if event.key == "down" and self.focused is self.query_one("#creator") and self.known:
            event.stop()
            known = self.query_one("#known", OptionList)
            known.focus()
            known.highlighted = 0

    @on(Input.Submitted, "#creator")
    def _typed(self, event: Input.Submitted) -> None:
        typed = event.value.strip()
        self.dismiss(self.current if self.current and typed == self.shown_current.strip() else typed)

    @on(OptionList.OptionSelected, "#known")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.known[int(event.option_id or 0)])

    def action_cancel(self) -> None:
        self.dismiss(None)


PREVIEW_CHARS = 68  # fits the picker box on one line


def _preview(value: str) -> str:
    """One terminal-safe line of `value`; a long one loses its middle (a URL's end names the image)."""
    first = safe_text(value.splitlines()[0]) if value else ""
    more = " …" if "\n" in value else ""
    if len(first) > PREVIEW_CHARS:
        keep = PREVIEW_CHARS - 1
        first = first[: keep // 3] + "…" + first[-(keep - keep // 3) :]
    return first + more
