"""The side panel: the highlighted image's record, its metadata as JSON, and its preview.

Cursor moves are debounced (`DEBOUNCE_SECONDS`) so holding `j` over a thousand rows makes
one request, not a thousand; an answer for an image that is no longer highlighted is
dropped. The preview is asked for the same (debounced) image.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual import work
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Static

from imgtui.common.sizes import human_size
from imgtui.common.text import safe_text
from imgtui.service import Images, ImagesError
from imgtui.service.config import DEFAULT_DELIVERY_BASE, SERVE_PORT
from imgtui.ui.account_cache import AccountState, VariantRow, account_cache, variant_rows
from imgtui.ui.display import plain, plain_text
from imgtui.ui.widgets import table_layout
from imgtui.ui.widgets.preview import ImagePreview, PreviewMode
from imgtui.workflows.retry import retry_read

if TYPE_CHECKING:
    from imgtui.service import ImageMetadata
    from imgtui.ui.variant_sizes import VariantSize

DEBOUNCE_SECONDS = 0.12


@dataclass(frozen=True, slots=True)
class StoredFile:
    """What only a local library knows about the stored bytes."""

    content_type: str
    size: int
    width: int | None
    height: int | None


def describe_file(stored: StoredFile) -> str:
    kind = stored.content_type.removeprefix("image/").upper().replace("SVG+XML", "SVG")
    parts = [kind]
    if stored.width and stored.height:
        parts.append(f"{stored.width}\u00d7{stored.height} px")  # a multiplication sign
    parts.append(human_size(stored.size))
    return " · ".join(parts)


def local_time(value: datetime) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z").rstrip()


LOCAL_DELIVERY_PREFIX = DEFAULT_DELIVERY_BASE.rsplit("/cdn-cgi/", 1)[0]


class DetailsPanel(Vertical):
    """Shows one image; `show(image_id)` is all the screen calls while the cursor moves."""

    @dataclass
    class Gone(Message):
        """The backend no longer has the image the list shows (deleted elsewhere)."""

        image_id: str

    @dataclass
    class Loaded(Message):
        """The backend's record of the shown image, as it is now (the list may hold an older one)."""

        image: ImageMetadata

    COMPONENT_CLASSES: ClassVar[set[str]] = {"details--key", "details--muted", "details--signed"}

    # `-stale` (the body shows another image than the title, until the debounced load) sits on
    # the body, not the panel: a class change restyles the node and all its descendants, and
    # the panel's include the preview (measured: 5-7 ms a cursor move, against 1 ms).
    DEFAULT_CSS = """
    DetailsPanel {
        & > .details--key { color: $text-muted; text-style: bold; }
        & > .details--muted { color: $text-muted; }
        & > .details--signed { color: $text-warning; text-style: bold; }
        & #details-body.-stale { text-opacity: 55%; }
    }
    """

    def __init__(
        self,
        images: Images,
        *,
        preview_mode: PreviewMode = "off",
        preview_shown: bool = True,  # the saved `v` choice
        name: str | None = None,
        id: str | None = None,  # noqa: A002
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.images = images
        self.preview_mode = preview_mode
        self.image_id: str | None = None  # the image the panel should show (debounced target)
        self.shown: ImageMetadata | None = None  # the record on display, once it arrived
        self._timer: Timer | None = None
        self._preview_on = preview_mode != "off" and preview_shown
        cache = account_cache(images)
        cached = cache.cached
        self._account: AccountState | None = cached if cached is not None and cached.available else None
        self._unsubscribe = cache.subscribe(self._account_changed)
        self._sizes: dict[str, VariantSize] = {}  # the last measured variants (`z`)
        self._sizes_for: str | None = None  # of this image
        # The panel's contents, mounted just after the first frame (see on_mount); made now so
        # that show() and the rest may talk to them before that.
        self._preview = ImagePreview(self.images, mode=self.preview_mode, id="preview")
        self._preview.display = self._preview_on
        self._info = Static("Nothing selected", id="details-info")
        self._meta = Static(id="details-meta")
        self._variants = Static(id="details-variants")
        self._body = VerticalScroll(self._info, self._meta, self._variants, id="details-body")

    def on_mount(self) -> None:
        self.border_title = "Details"
        # The first frame shows the panel's border and title (its size is the layout's, so
        # nothing moves), its contents a frame later: mounting and styling them was ~a fifth
        # of the work before the first frame, and they have nothing to show yet (the
        # record loads after a debounce).
        self.call_after_refresh(self._mount_contents)

    def _mount_contents(self) -> None:
        if self.is_attached and not self._body.is_attached:
            self.mount(self._preview, self._body)

    def on_unmount(self) -> None:
        self._unsubscribe()

    @property
    def preview(self) -> ImagePreview:
        return self._preview

    @property
    def info(self) -> Static:
        return self._info

    @property
    def stale(self) -> bool:
        """The body still shows the image before the highlighted one (dimmed)."""
        return self._body.has_class("-stale")

    def _set_stale(self, stale: bool) -> None:
        # Not mounted yet: the class is there when it is styled.
        self._body.set_class(stale, "-stale", update=self._body.is_attached)

    def toggle_preview(self) -> bool:
        """Show or hide the preview; returns whether it is now shown."""
        self._preview_on = not self._preview_on
        self.preview.display = self._preview_on
        self.preview.show(self.image_id if self._preview_on else None)
        return self._preview_on

    def show(self, image_id: str | None) -> None:
        """Show `image_id` once the cursor rests for DEBOUNCE_SECONDS."""
        self.image_id = image_id
        self.border_title = plain(image_id or "Details")  # an id may hold `[/]` or ESC
        self._set_stale(self.shown is None or self.shown.id != image_id)
        if self._preview_on:
            # Never leave another image's picture under this title while keys repeat:
            # show it at once if cached, else clear; the debounced load fetches it.
            self.preview.show_cached(image_id)
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE_SECONDS, self._load_now)

    def reload(self) -> None:
        """Fetch the current image again now (after an edit)."""
        if self._timer is not None:
            self._timer.stop()
        self._load_now()

    def _load_now(self) -> None:
        self._timer = None
        image_id = self.image_id
        if self._preview_on:
            self.preview.show(image_id)
        if image_id is None:
            self._show_message(Content.from_markup("[$text-muted]No image selected[/]"))
            return
        self._fetch(image_id)

    @work(exclusive=True, group="details", exit_on_error=False)
    async def _fetch(self, image_id: str) -> None:
        try:
            image, stored = await self._load(image_id)
        except ImagesError as error:
            if image_id == self.image_id:
                self._show_message(
                    Content.from_markup(
                        "[b $text-error]ERROR $code[/]\n$message\n\n[$text-muted]while loading $id[/]",
                        code=safe_text(error.code),
                        message=safe_text(error.message, multiline=True),
                        id=safe_text(image_id),
                    )
                )
            return
        if image_id != self.image_id:
            return  # the cursor moved on while we waited: a stale answer
        if image is None:
            self._show_message(
                Content.from_markup(
                    "[b $text-warning]Image not found[/]\n\n$id is no longer here (deleted elsewhere?)."
                    "\n[$text-muted]Press r to refresh the list.[/]",
                    id=safe_text(image_id),
                )
            )
            self.post_message(self.Gone(image_id))
            return
        self.post_message(self.Loaded(image))
        self.shown = image
        self._set_stale(False)
        self.info.update(self._render_image(image, stored))
        self._meta.update(self._render_metadata(image))
        self._variants.update(self._render_variants(image))

    async def _load(self, image_id: str) -> tuple[ImageMetadata | None, StoredFile | None]:
        cache = account_cache(self.images)
        if cache.cached is None:
            # Read the account once per session, beside this image (not before it): the
            # listener redraws the variants when it arrives.
            self.run_worker(cache.state(), group="details-account", exclusive=True, exit_on_error=False)
        handle = self.images.hosted.image(image_id)
        answer = await retry_read(handle.file_info)  # a passing 500 or dropped connection
        if answer is None:
            return None, None
        image, info = answer  # info is None where the backend keeps no file facts (Cloudflare)
        if info is None:
            return image, None
        return image, StoredFile(info.content_type, info.size, info.width, info.height)

    def _show_message(self, message: Content) -> None:
        """Replace the whole body by one message (no image, not found, error)."""
        self.shown = None
        self._set_stale(False)
        self.info.update(message)
        self._meta.update("")
        self._variants.update("")

    def _style(self, component: str):
        return self.get_component_rich_style(component, partial=True)

    def _render_image(self, image: ImageMetadata, stored: StoredFile | None) -> RenderableType:
        key = self._style("details--key")
        muted = self._style("details--muted")
        fields = Table.grid(padding=(0, 1))
        fields.add_column(style=key, no_wrap=True)
        fields.add_column(overflow="fold")
        # Every value from the backend: plain_text (escaped, never markup).
        fields.add_row("ID", plain_text(image.id))
        fields.add_row("Filename", plain_text(image.filename or "—"))
        fields.add_row("Uploaded", Text(local_time(image.uploaded)))
        if image.require_signed_urls:
            fields.add_row(
                "Access",
                Text(f"{table_layout.LOCK_GLYPH} signed URLs required", style=self._style("details--signed")),
            )
        else:
            fields.add_row("Access", Text("public"))
        fields.add_row("Creator", plain_text(image.creator or "—", style="" if image.creator else muted))
        if stored is not None:
            fields.add_row("File", plain_text(describe_file(stored)))
        if image.draft:
            fields.add_row("Draft", Text("yes (upload not finished)"))
        return fields

    def _render_metadata(self, image: ImageMetadata) -> Content:
        title = Content.from_markup("\n[b $text-muted]Metadata[/]\n")
        if not image.meta:
            return title + Content.from_markup("[$text-muted]none[/]")
        from textual.highlight import highlight  # pygments: loaded on first use, not at startup

        # json.dumps escapes C0 controls itself, but not DEL, C1 or bidi controls; the stored
        # order, as the editor shows it.
        source = safe_text(json.dumps(image.meta, indent=2, ensure_ascii=False), multiline=True)
        return title + highlight(source, language="json")

    def _render_variants(self, image: ImageMetadata) -> Content:
        """The account's variants for this image (name, how it resizes, its URL) and, once
        measured (`z`), each one's pixels and bytes; the image's own URLs when the account
        cannot be read."""
        title = Content.from_markup(
            "\n[b $text-muted]Variants[/]  [$text-muted][@click=app.variant_sizes]z: sizes[/][/]\n"
        )
        rows = variant_rows(image, self._account)
        if not rows:
            return title + Content.from_markup("[$text-muted]none[/]")
        sizes = self._sizes if self._sizes_for == image.id else {}
        lines: list[Content] = []
        for row in rows:
            line = Content.from_markup("[b]$name[/b]", name=safe_text(row.name))
            if row.box:
                line += Content.from_markup("  [$text-muted]$box[/]", box=row.box)
            if row.signed:
                line += Content(f"  {table_layout.LOCK_GLYPH}")
            measured = sizes.get(row.name)
            if measured is not None:
                style = "$text-error" if measured.error else "$text-success"
                line += Content.from_markup(f"  [{style}]$size[/]", size=safe_text(measured.describe()))
            lines.append(line)
            lines.append(Content.from_markup("[$text-muted]$url[/]", url=safe_text(row.url)))
        if self._account is not None and self._account.flexible_variants and not image.require_signed_urls:
            lines.append(
                Content.from_markup("[$text-muted]flexible variants on: any w=…,h=… in place of a name[/]")
            )
        body = Content("\n").join(lines)
        if any(row.url.startswith(LOCAL_DELIVERY_PREFIX) for row in rows):
            # A local library's URLs answer only while `imgtui serve` runs: say so.
            hint = f"[$text-muted]served by `imgtui serve` (port {SERVE_PORT}) while it runs[/]\n"
            return title + Content.from_markup(hint) + body
        return title + body

    # ----------------------------------------------------------------- variant sizes

    def measure_variants(self) -> bool:
        """Fetch each variant of the shown image and show its pixels and bytes (on demand:
        one request per variant, capped in ui/variant_sizes.py). False when nothing is shown."""
        image = self.shown
        if image is None:
            return False
        rows = variant_rows(image, self._account)
        if not rows:
            return False
        self._sizes_for, self._sizes = image.id, {}
        self._variants.update(
            self._render_variants(image) + Content.from_markup("\n[$text-muted]measuring…[/]")
        )
        self._measure(image, rows)
        return True

    @work(exclusive=True, group="variant-sizes", exit_on_error=False)
    async def _measure(self, image: ImageMetadata, rows: list[VariantRow]) -> None:
        from imgtui.ui.variant_sizes import measure_variants

        handle = self.images.hosted.image(image.id)
        urls: list[tuple[str, str]] = []
        for row in rows:
            url = row.url
            if row.signed:
                # A private image's variant answers a signed URL only; if signing fails, the
                # unsigned answer (HTTP 401) says why.
                with contextlib.suppress(ImagesError):
                    url = await handle.signed_url(row.name, expires_in=SIGNED_MEASURE_SECONDS)
            urls.append((row.name, url))
        measured = await measure_variants(urls)
        if self.shown is None or self.shown.id != image.id:
            return  # the cursor moved on
        self._sizes = {size.name: size for size in measured}
        self._variants.update(self._render_variants(self.shown))

    def _account_changed(self, state: AccountState) -> None:
        """The account screen changed variants or settings: redraw the list of them."""
        self._account = state if state.available else None
        if self.shown is not None and self.is_mounted:
            self._variants.update(self._render_variants(self.shown))


SIGNED_MEASURE_SECONDS = 300  # a signed URL made only to measure: short-lived
