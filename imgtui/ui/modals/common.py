"""What every form shares: the cancel key, a busy state, the error line, metadata checks."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static
from textual.worker import Worker

from imgtui.common.text import has_unsafe_characters, safe_text
from imgtui.service import ImageMetadata, ImagesError
from imgtui.service.rules import MAX_METADATA_BYTES, check_metadata, metadata_size
from imgtui.ui.display import plain
from imgtui.ui.styles import tcss_folder
from imgtui.ui.worker_errors import ForwardsWorkerErrors, describe_failure

ResultT = TypeVar("ResultT")


# The line a form shows for a failed call: the same words as the App's notifications.
describe_error = describe_failure


@dataclass(frozen=True, slots=True)
class MetadataCheck:
    """The verdict on a metadata editor's text: the value when valid, else why not."""

    value: dict[str, Any] | None
    size: int | None  # compact UTF-8 bytes, when it parsed as an object
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None

    def usage(self) -> str:
        if self.size is None:
            return f"? / {MAX_METADATA_BYTES} bytes"
        return f"{self.size} / {MAX_METADATA_BYTES} bytes"


def check_metadata_text(text: str, *, empty_is_none: bool = False) -> MetadataCheck:
    """Parse metadata as the user typed it; the size is measured as the service measures it."""
    if not text.strip():
        if empty_is_none:
            return MetadataCheck(None, 0, None)
        return MetadataCheck(None, None, "Metadata must be a JSON object (use {} for none)")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return MetadataCheck(None, None, f"Invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})")
    except RecursionError:
        return MetadataCheck(None, None, "Invalid JSON: nested too deeply")
    if not isinstance(value, dict):
        return MetadataCheck(None, None, f"Metadata must be a JSON object, not {type(value).__name__}")
    try:
        size = metadata_size(value)
    except ValueError:  # json.loads accepts NaN and Infinity; JSON proper does not
        return MetadataCheck(None, None, "Metadata must not contain NaN or Infinity")
    try:
        check_metadata(value)  # the service's own rules (size, nesting depth), the same messages
    except ImagesError as error:
        return MetadataCheck(None, size, error.message)
    return MetadataCheck(value, size, None)


def image_caption(image: ImageMetadata) -> Content:
    """`Image <id>  <filename>`, safe for names with markup or control characters in them."""
    return Content.from_markup(
        "Image [b]$id[/b]  $name", id=safe_text(image.id), name=safe_text(image.filename or "")
    )


def pretty_metadata(meta: dict[str, Any] | None) -> str:
    """Metadata as the editor shows it: indented JSON whose DEL, C1 and bidi characters are
    JSON escapes (`\\u009b`), so the terminal never gets them and the text parses back to
    the very same value (json.dumps escapes C0 controls already)."""
    text = json.dumps(meta or {}, indent=2, ensure_ascii=False)
    if not has_unsafe_characters(text):
        return text
    return "".join(
        f"\\u{ord(char):04x}" if char != "\n" and has_unsafe_characters(char) else char for char in text
    )


class ErrorLine(Static):
    """The line under a form that shows why the last call or check failed (hidden when empty)."""

    DEFAULT_CSS = """
    ErrorLine { display: none; }
    ErrorLine.-shown { display: block; }
    """

    def show(self, text: str) -> None:
        self.update(plain(text, multiline=True))  # server messages may hold `[` or ESC
        self.set_class(bool(text), "-shown")

    def clear(self) -> None:
        self.show("")


class FormModal(ForwardsWorkerErrors, ModalScreen[ResultT]):
    """A modal form: Escape cancels (dismiss None) unless a call is in flight.

    Subclasses compose an `ErrorLine(id="form-error")` and mark widgets to disable while
    busy with the class `busy-off`. A worker that raises leaves the form usable: the App
    notifies (ui/worker_errors.py) and the form shows the error on its line.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="modal.cancel", tooltip="Close without changing anything"),
    ]
    # The forms' styles, loaded by Textual when the first form opens (not at launch).
    CSS_PATH = str(tcss_folder() / "modals.tcss")

    busy: reactive[bool] = reactive(False, init=False)

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.cancel_button_pressed()

    def cancel_button_pressed(self) -> None:
        """Every form's Cancel button: the same as Escape unless a form says otherwise."""
        self.action_cancel()

    def action_cancel(self) -> None:
        if self.busy:
            # The call may land anyway: leaving now would leave the user unsure of the outcome.
            self.notify("Still working: wait for the answer.", severity="warning", timeout=3, markup=False)
            return
        self.dismiss(None)

    def watch_busy(self, busy: bool) -> None:
        if busy:
            # Disabling the focused field moves focus away; give it back afterwards so a
            # failed call leaves the user where they were typing.
            self._focus_before_busy = self.focused
        for widget in self.query(".busy-off"):
            widget.disabled = busy
        self.set_class(busy, "-busy")
        previous = getattr(self, "_focus_before_busy", None)
        if not busy and previous is not None and previous.is_mounted and previous.focusable:
            previous.focus()

    def show_error(self, error: BaseException | str) -> None:
        text = error if isinstance(error, str) else describe_error(error)
        self.query_one("#form-error", ErrorLine).show(text)

    def worker_failed(self, worker: Worker, error: BaseException) -> None:
        self.busy = False
        if self.is_mounted:
            self.show_error(error)

    def clear_error(self) -> None:
        self.query_one("#form-error", ErrorLine).clear()

    def confirm_discard(self, question: str, discard: Callable[[], object]) -> None:
        """Ask `question` over the form; call `discard` only on a yes (Escape keeps the form)."""

        def answered(yes: bool | None) -> None:
            if yes:
                discard()

        self.app.push_screen(ConfirmDiscardModal(question), callback=answered)


class ConfirmDiscardModal(FormModal[bool]):
    """ "Discard …?" over a form with something typed or queued: `y` discards; Escape, `n` or
    Enter on the focused Keep go back to the form (the safe answer is the easy one)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Keep", id="discard.keep", tooltip="Back to the form, nothing lost"),
        Binding("n", "cancel", "Keep", show=False, id="discard.no"),
        Binding("y", "discard", "Discard", id="discard.yes", tooltip="Close the form and lose what it holds"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="modal-dialog modal-danger modal-small") as dialog:
            dialog.border_title = "Discard?"
            dialog.border_subtitle = "y discard · esc keep"
            yield Label(plain(self.question), id="discard-question", classes="modal-intro")
            with Horizontal(classes="modal-buttons"):
                yield Button("Discard", variant="error", id="discard")
                yield Button("Keep", variant="primary", id="keep")

    def on_mount(self) -> None:
        self.query_one("#keep", Button).focus()

    @on(Button.Pressed, "#keep")
    def action_cancel(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed, "#discard")
    def action_discard(self) -> None:
        self.dismiss(True)
