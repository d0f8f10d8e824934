"""Upload files, folders or URLs: a queue with a progress bar each, options, and a summary."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import ClassVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Checkbox, Collapsible, Input, Label, ProgressBar, Static, TextArea

from imgtui.common.sizes import human_size
from imgtui.common.text import safe_text
from imgtui.service import ErrorCode, ImageMetadata, Images, ImagesError
from imgtui.service.rules import MAX_CREATOR_CHARS, MAX_FILENAME_CHARS, check_custom_id, check_filename
from imgtui.ui.display import middle_cut, plain
from imgtui.workflows.dropparse import DropResult, parse_drop, parse_typed
from imgtui.workflows.upload_queue import (
    UploadEvent,
    UploadItem,
    UploadOptions,
    UploadQueue,
    inspect_files,
    is_http_url,
)
from imgtui.workflows.upload_run import UploadRun

from .common import ErrorLine, FormModal, check_metadata_text, describe_error
from .widgets import ImageFileTree, PathInput, TickBox

TREE_HINT = "enter adds a file or opens a folder · backspace: up a folder · esc closes the tree"
CUSTOM_ID_CONFLICT = f"A custom ID cannot go with signed URLs (Cloudflare refuses it: ERROR {ErrorCode.SIGNED_URLS_WITH_CUSTOM_ID:d})."
_STATUS_TEXT = {
    "queued": "queued",
    "fetching": "fetching…",
    "uploading": "uploading…",
    "done": "✓ uploaded",
    "failed": "✗ failed",
    "skipped": "not sent",
}


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' if count != 1 else ''}"


def describe_items(items: list[UploadItem], *, sizes: bool = False) -> str:
    """`3 files`, `1 URL`, `2 files (1.2 MB) and 1 URL`: a URL's size is unknown until fetched."""
    files = [item for item in items if item.url is None]
    urls = len(items) - len(files)
    parts = []
    if files:
        size = f" ({human_size(sum(item.size or 0 for item in files))})" if sizes else ""
        parts.append(_plural(len(files), "file") + size)
    if urls:
        parts.append(_plural(urls, "URL"))
    return " and ".join(parts)


class MiddleCutLabel(Label):
    """A one-line label cut in the middle to its width, so the end of a long URL stays visible."""

    def __init__(self, text: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.full_text = safe_text(text)  # a name from disk or a typed URL

    def render(self) -> Content:
        return Content(middle_cut(self.full_text, max(self.content_size.width, 1)))


class RefusedRow(Horizontal):
    """Something the user added that cannot be uploaded, with the reason: it stays in the queue
    (not sent, not counted) so the next "Added …" hint does not hide it."""

    def __init__(self, problem: str) -> None:
        super().__init__(classes="queue-line queue-refused")
        self.problem = problem

    def compose(self) -> ComposeResult:
        yield MiddleCutLabel(self.problem, classes="queue-name")
        yield Label("✗ refused", classes="queue-status")
        yield Button("✕", classes="refused-remove busy-off", tooltip="Dismiss", compact=True)


class QueueRow(Vertical):
    """One queued file: name, size, progress, status, and its error when it failed."""

    def __init__(self, item: UploadItem) -> None:
        super().__init__(classes="queue-row")
        self.item = item

    def compose(self) -> ComposeResult:
        with Horizontal(classes="queue-line"):
            yield MiddleCutLabel(self.item.name, classes="queue-name")  # a file name from disk, or a URL
            yield Label(human_size(self.item.size) or "URL", classes="queue-size")
            yield ProgressBar(total=1, show_eta=False, classes="queue-bar")
            yield Label("queued", classes="queue-status")
            yield Button("✕", classes="queue-remove busy-off", tooltip="Remove from the queue", compact=True)
        yield ErrorLine(classes="queue-error")

    def show(self, event: UploadEvent) -> None:
        outcome, status = event.outcome, event.status
        self.query_one(".queue-status", Label).update(_STATUS_TEXT[status])
        self.set_class(status == "failed", "-failed")
        self.set_class(status == "done", "-done")
        bar = self.query_one(ProgressBar)
        if status == "fetching" and event.done is not None:
            bar.update(total=event.total, progress=event.done)
        elif status in ("fetching", "uploading"):
            bar.update(total=None)  # indeterminate: the service reports no byte progress
        elif status == "done":
            bar.update(total=1, progress=1)
        else:
            bar.update(total=1, progress=0)
        self.query_one(".queue-error", ErrorLine).show(
            describe_error(outcome.error) if outcome.error is not None else ""
        )


class UploadModal(FormModal[list[ImageMetadata]]):
    """Queue files/URLs, set options, upload 3 at a time; dismisses with what was uploaded."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *FormModal.BINDINGS,
        # ctrl+s like the metadata form's save; ctrl+u would be the path field's "delete to start".
        Binding("ctrl+s", "start_upload", "Upload", id="upload.start", tooltip="Upload the queued files"),
        Binding("ctrl+o", "browse", "Browse", id="upload.browse", tooltip="Pick files in a folder tree"),
    ]

    def __init__(
        self,
        images: Images,
        paths: list[Path] | None = None,
        *,
        urls: list[str] | None = None,
        problems: list[str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        super().__init__()
        self.images = images
        self.cwd = cwd
        self._initial_paths = list(paths or [])
        self._initial_urls = list(urls or [])
        self._initial_problems = list(problems or [])  # what the drop named but cannot upload
        self.run = UploadRun()  # the queue and its runs: this form only shows it
        self.queue: UploadQueue | None = None
        self._tree_hint_shown = False  # the hint line shows TREE_HINT (cleared with the tree)

    # -- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog", classes="modal-dialog modal-wide") as dialog:
            dialog.border_title = "Upload images"
            dialog.border_subtitle = "enter add · ctrl+s upload · esc cancel"
            yield Label(
                "Add a file, a folder or an http(s) URL (tab completes; you can also drop files here)",
                classes="field-label",
            )
            with Horizontal(classes="path-row"):
                yield PathInput(placeholder="~/Pictures/cat.png", id="path", cwd=self.cwd, classes="busy-off")
                yield Button("Add", id="add", classes="busy-off")
                yield Button("Browse", id="browse", classes="busy-off")
            yield Static("", id="path-hint", classes="field-hint")
            yield Vertical(id="tree-box")
            yield Label("Queue is empty", id="queue-title", classes="field-label")
            yield VerticalScroll(id="queue")
            yield ProgressBar(total=1, show_eta=False, id="overall")
            with Collapsible(title="Options", id="options", collapsed=True):
                with Horizontal(classes="option-row"):
                    with Vertical():
                        yield Label("Custom ID (one file only)", classes="field-label")
                        yield Input(
                            placeholder="e.g. products/shoe-1",
                            id="custom-id",
                            classes="busy-off",
                            compact=True,
                        )
                    with Vertical():
                        yield Label("Filename (one file only)", classes="field-label")
                        yield Input(
                            id="filename", max_length=MAX_FILENAME_CHARS, classes="busy-off", compact=True
                        )
                yield Label("Creator", classes="field-label")
                yield Input(
                    id="creator",
                    max_length=MAX_CREATOR_CHARS,
                    placeholder="none",
                    classes="busy-off",
                    compact=True,
                )
                yield Label("Metadata (a JSON object; empty for none)", classes="field-label")
                yield TextArea(
                    "",
                    id="metadata",
                    classes="busy-off upload-metadata",
                    tab_behavior="focus",
                    soft_wrap=True,
                    compact=True,
                    placeholder='{"alt": "…"}',
                )
                yield Label("", id="metadata-status", classes="field-hint")
                yield TickBox("Require signed URLs (private)", id="signed", classes="busy-off", compact=True)
                yield Static("", id="signed-hint", classes="field-hint")
            yield ErrorLine(id="form-error", classes="form-error")
            yield Static("", id="summary", classes="upload-summary")
            with Horizontal(classes="modal-buttons"):
                yield Button("Upload", variant="primary", id="upload", disabled=True)
                yield Button("Cancel", id="cancel")

    async def on_mount(self) -> None:
        self.query_one("#overall").display = False
        self.query_one("#summary").display = False
        self._refresh_options()
        if self._initial_paths or self._initial_urls:
            urls = [url for url in self._initial_urls if is_http_url(url)]
            await self._add_drop(DropResult(self._initial_paths, urls, self._initial_problems))
        if self.run.items:
            self.query_one("#upload", Button).focus()
        else:
            self.query_one("#path", PathInput).focus()

    # -- adding to the queue --------------------------------------------------------------

    async def _add_items(self, items: list[UploadItem], problems: list[str]) -> None:
        fresh = self.run.add(items)
        queue = self.query_one("#queue", VerticalScroll)
        if fresh:
            await queue.mount_all(QueueRow(item) for item in fresh)
        if problems:
            # Refusals stay in the queue with their reason; the hint only counts them.
            known = {row.problem for row in self.query(RefusedRow)}
            await queue.mount_all(RefusedRow(problem) for problem in problems if problem not in known)
        added = f"Added {describe_items(fresh)}" if fresh else ""
        if problems:
            refused = "; ".join(problems)  # also kept in the queue, where the next hint cannot hide it
            self._hint(f"{added}; skipped: {refused}" if added else refused, error=True)
        else:
            self._hint(added or ("Already queued" if items else ""))
        self._refresh_options()

    @on(Button.Pressed, ".refused-remove")
    async def _dismiss_refused(self, event: Button.Pressed) -> None:
        await event.button.query_ancestor(RefusedRow).remove()

    async def _add_drop(self, result: DropResult) -> None:
        items, problems = await asyncio.to_thread(inspect_files, result.files)
        items += [UploadItem(url=url) for url in result.urls]
        await self._add_items(items, [*result.problems, *problems])

    def _hint(self, text: str, *, error: bool = False) -> None:
        hint = self.query_one("#path-hint", Static)
        hint.update(plain(text))  # quotes typed paths and file names
        hint.set_class(error, "-error")
        self._tree_hint_shown = text == TREE_HINT

    @on(Input.Submitted, "#path")
    @on(Button.Pressed, "#add")
    async def _add_typed(self) -> None:
        if self.busy or not self.run.can_edit:
            return
        path_input = self.query_one("#path", PathInput)
        text = path_input.value.strip()
        if not text:
            if self.run.items:  # Enter on an empty field: the queue is what the user wants
                self.action_upload()
            return
        if "://" in text and not text.lower().startswith("file:") and not is_http_url(text):
            self._hint(f"{text}: only http(s) URLs can be fetched", error=True)
            return
        result = await asyncio.to_thread(parse_typed, text, cwd=self.cwd)
        if result.empty:
            self._hint("; ".join(result.problems), error=True)
            return
        await self._add_drop(result)
        path_input.value = ""

    @on(PathInput.Dropped)
    async def _dropped_on_input(self, event: PathInput.Dropped) -> None:
        if not self.busy and self.run.can_edit:
            await self._add_drop(event.result)

    @on(PathInput.Completed)
    def _completed(self, event: PathInput.Completed) -> None:
        if len(event.matches) > 1:
            shown = ", ".join(Path(match.rstrip("/")).name for match in event.matches[:6])
            more = f" (+{len(event.matches) - 6})" if len(event.matches) > 6 else ""
            self._hint(f"{len(event.matches)} matches: {shown}{more} (tab again to cycle)")
        elif not event.matches:
            self._hint("No match")

    async def on_paste(self, event: events.Paste) -> None:
        # A drop while a button or the queue has focus reaches the screen.
        if self.busy or not self.run.can_edit:
            return
        event.stop()
        result = await asyncio.to_thread(parse_drop, event.text, cwd=self.cwd)
        if result.empty:
            self._hint("; ".join(result.problems), error=True)
        else:
            await self._add_drop(result)

    @on(Button.Pressed, ".queue-remove")
    async def _remove(self, event: Button.Pressed) -> None:
        row = event.button.query_ancestor(QueueRow)
        if self.busy or not self.run.remove(row.item):
            return
        await row.remove()
        self._refresh_options()

    @on(Button.Pressed, "#browse")
    async def action_browse(self) -> None:
        """Show (or hide) the file picker, in the folder typed in the path field if any."""
        box = self.query_one("#tree-box", Vertical)
        text = self.query_one("#path", PathInput).value.strip()
        typed = await asyncio.to_thread(self._existing_folder, text)
        if not box.children:
            await box.mount(ImageFileTree(typed or self.cwd or Path.cwd(), id="tree"))
            box.display = True
        elif typed is not None:
            box.display = True
        else:
            box.display = not box.display
        if box.display:
            tree = self.query_one("#tree", ImageFileTree)
            if typed is not None and Path(tree.path) != typed:
                tree.path = typed
            tree.focus()
            self._hint(TREE_HINT)

    def _existing_folder(self, text: str) -> Path | None:
        """The existing folder `text` names, if it names one (blocking: stats)."""
        if not text or "://" in text:
            return None
        folder = Path(os.path.expanduser(text))
        if not folder.is_absolute():
            folder = (self.cwd or Path.cwd()) / folder
        return folder if folder.is_dir() else None

    @on(ImageFileTree.FileSelected)
    async def _picked(self, event: ImageFileTree.FileSelected) -> None:
        event.stop()
        if not self.busy and self.run.can_edit:
            await self._add_drop(DropResult(files=[event.path]))

    # -- options ----------------------------------------------------------------------------

    @on(Input.Changed, "#custom-id")
    @on(Checkbox.Changed, "#signed")
    @on(TextArea.Changed, "#metadata")
    def _refresh_options(self) -> None:
        """Keep the form honest: what applies, what conflicts, whether Upload can go."""
        single = len(self.run.items) == 1
        for widget_id in ("#path", "#add", "#browse"):
            self.query_one(widget_id).disabled = self.busy or not self.run.can_edit
        custom_id = self.query_one("#custom-id", Input)
        filename = self.query_one("#filename", Input)
        custom_id.disabled = filename.disabled = self.busy or not single
        filename.placeholder = safe_text(self.run.items[0].default_filename) if single else "(one file only)"
        self.query_one("#queue-title", Label).update(
            f"Queue: {describe_items(self.run.items, sizes=True)}" if self.run.items else "Queue is empty"
        )
        metadata = check_metadata_text(self.query_one("#metadata", TextArea).text, empty_is_none=True)
        meta_status = self.query_one("#metadata-status", Label)
        meta_status.update(plain(metadata.error or metadata.usage()))
        meta_status.set_class(not metadata.ok, "-error")
        conflict = self._signed_conflict()
        self.query_one("#signed-hint", Static).update(
            CUSTOM_ID_CONFLICT
            if conflict
            else "Private: only signed URLs will deliver these images."
            if self.query_one("#signed", Checkbox).value
            else ""
        )
        self.query_one("#signed-hint").set_class(conflict, "-error")
        self.query_one("#upload", Button).disabled = (
            self.busy or not self.run.can_upload or conflict or not metadata.ok
        )

    def _signed_conflict(self) -> bool:
        custom = self.query_one("#custom-id", Input).value.strip()
        return bool(custom) and len(self.run.items) == 1 and self.query_one("#signed", Checkbox).value

    def _options(self) -> UploadOptions:
        """The options as typed, checked; ImagesError names what is wrong."""
        single = len(self.run.items) == 1
        custom_id = self.query_one("#custom-id", Input).value.strip() or None
        filename = self.query_one("#filename", Input).value or None
        if single and custom_id is not None:
            check_custom_id(custom_id)
        if single and filename is not None:
            check_filename(filename)
        creator = self.query_one("#creator", Input).value or None
        metadata = check_metadata_text(self.query_one("#metadata", TextArea).text, empty_is_none=True)
        if not metadata.ok:
            raise ImagesError(ErrorCode.BAD_REQUEST, metadata.error or "Invalid metadata")
        return UploadOptions(
            custom_id=custom_id if single else None,
            filename=filename if single else None,
            creator=creator,
            metadata=metadata.value,
            require_signed_urls=self.query_one("#signed", Checkbox).value,
        )

    # -- uploading ---------------------------------------------------------------------------

    @on(Button.Pressed, "#upload")
    async def action_start_upload(self) -> None:
        """Upload, after adding a path still typed in the field: nothing typed is dropped."""
        if self.busy:
            return
        path_input = self.query_one("#path", PathInput)
        if not self.run.started and path_input.value.strip():
            await self._add_typed()
            if path_input.value.strip():
                # It could not be added: say so where the eye is (the form's error line, by
                # the buttons), and go back to the field to fix or clear it.
                reason = str(self.query_one("#path-hint", Static).render())
                self.show_error(
                    f"Not uploaded: the path field still holds text that cannot be added ({reason})"
                )
                path_input.focus()
                return
        if not self.run.items:
            self._hint("Nothing to upload yet: type a path and press Enter, or Browse", error=True)
            return
        self.action_upload()

    def action_upload(self) -> None:
        """Upload the queue; after a run with failures, send the failed and unsent ones again."""
        if self.busy or not self.run.rows_to_send:
            return
        self.clear_error()
        try:
            options = self._options()
        except ImagesError as exc:
            self.show_error(exc)
            self.query_one("#options", Collapsible).collapsed = False
            return
        if self._signed_conflict():
            self.show_error(CUSTOM_ID_CONFLICT)
            return
        items = self.run.start()
        self.queue = UploadQueue(self.images, items, options, on_event=self._on_upload_event)
        overall = self.query_one("#overall", ProgressBar)
        overall.update(total=len(items), progress=0)
        overall.display = True
        self.add_class("-started")  # no more adding or removing: rows map to items
        self.query_one("#summary").display = False
        self.busy = True
        self._refresh_options()
        self._run_queue(self.queue)

    def _on_upload_event(self, event: UploadEvent) -> None:
        rows = list(self.query(QueueRow))
        rows[self.run.row_of(event.index)].show(event)
        if event.status in ("done", "failed", "skipped") and self.queue is not None:
            settled = sum(o.status in ("done", "failed", "skipped") for o in self.queue.outcomes)
            self.query_one("#overall", ProgressBar).update(progress=settled)

    @work(exit_on_error=False, exclusive=True, group="upload")
    async def _run_queue(self, queue: UploadQueue) -> None:
        try:
            outcomes = await queue.run()
        finally:
            self.busy = False
        run = self.run
        run.finish(outcomes)
        summary = run.summary()
        self._refresh_options()
        if run.all_done:
            self.notify(summary.text(), title="Upload", timeout=4, markup=False)
            self.dismiss(self.run.uploaded)
            return
        upload = self.query_one("#upload", Button)
        upload.label = f"Retry {len(run.pending)}"
        upload.display = bool(run.pending)
        text = summary.text()
        if run.any_refused:
            text += " Refused files are not retried (they would fail again)."
        shown = self.query_one("#summary", Static)
        shown.update(plain(text, multiline=True))
        shown.display = True
        close = self.query_one("#cancel", Button)
        close.label = "Close"
        (upload if run.retry_may_help else close).focus()

    def cancel_button_pressed(self) -> None:
        self._leave()  # unlike Escape, Cancel does not stop at the file tree

    def action_cancel(self) -> None:
        """Escape: the innermost thing first (the file tree), then the form."""
        box = self.query_one("#tree-box", Vertical)
        if box.display and not self.busy:
            self._close_tree()
            return
        self._leave()

    def _close_tree(self) -> None:
        self.query_one("#tree-box", Vertical).display = False
        if self._tree_hint_shown:
            self._hint("")
        self.query_one("#path", PathInput).focus()

    def _leave(self) -> None:
        if self.queue is not None and self.busy:
            # Never leave the user unsure: in-flight uploads finish and are reported.
            if not self.queue.stopped:
                self.queue.stop()
                self._hint("Stopping: uploads in flight will finish; the rest will not be sent.", error=True)
            return
        if self.run.started:
            self.dismiss(self.run.uploaded)  # what landed must reach the list even on Escape
            return
        if self.run.items:
            self.confirm_discard(
                f"Discard {describe_items(self.run.items)} in the queue?", lambda: self.dismiss(None)
            )
            return
        self.dismiss(None)
