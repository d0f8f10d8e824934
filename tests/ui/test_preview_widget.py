"""ImagePreview in a tiny host app, over a real local library in a tmp dir."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import zlib
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image
from textual.app import App, ComposeResult
from textual.worker import WorkerCancelled

from imgtui.service import ErrorCode, Images, ImagesError
from imgtui.ui.preview.loader import PreviewOutcome
from imgtui.ui.widgets.preview import LOADING_DELAY, LOADING_TEXT, OFF_TEXT, ImagePreview

pytestmark = pytest.mark.filterwarnings("ignore:Image.Image.getdata:DeprecationWarning")  # textual-image

SIZE = (80, 34)  # the preview gets the whole screen: 80x34 cells


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return len(payload).to_bytes(4, "big") + kind + payload + zlib.crc32(kind + payload).to_bytes(4, "big")


def corrupt_png() -> bytes:
    """Valid signature, IHDR and IEND (passes the upload sniffer), garbage IDAT."""
    ihdr = (32).to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", b"garbage, not zlib" * 8)
        + png_chunk(b"IEND", b"")
    )


RED = (200, 30, 30)
PNG = encode(Image.new("RGB", (64, 48), RED), "PNG")
JPEG = encode(Image.new("RGB", (800, 600), (20, 160, 40)), "JPEG", quality=90)
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><circle r="4"/></svg>'
GIF = encode(
    Image.new("RGB", (40, 20), "black"),
    "GIF",
    save_all=True,
    append_images=[Image.new("RGB", (40, 20), "white")],
    duration=80,
)


class SpyBackend:
    """The real local backend, with bytes() calls counted, delayable and failable."""

    def __init__(self, backend) -> None:
        self._backend = backend
        self.calls: Counter[str] = Counter()
        self.delay: dict[str, float] = {}
        self.cancelled: set[str] = set()
        self.error: Exception | None = None

    def __getattr__(self, name):
        return getattr(self._backend, name)

    async def bytes(self, image_id: str):
        self.calls[image_id] += 1
        if self.error is not None:
            raise self.error
        try:
            await asyncio.sleep(self.delay.get(image_id, 0))
        except asyncio.CancelledError:
            self.cancelled.add(image_id)
            raise
        return await self._backend.bytes(image_id)


class RecordingPreview(ImagePreview):
    """Records every id whose outcome reached the screen, in order."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.presented: list[str] = []

    def _present(self, request, outcome: PreviewOutcome) -> None:
        self.presented.append(request.image_id)
        super()._present(request, outcome)


class Host(App):
    def __init__(self, images: Images, mode: str = "halfcell") -> None:
        super().__init__()
        self.images = images
        self.mode = mode

    def compose(self) -> ComposeResult:
        yield RecordingPreview(self.images, mode=self.mode, id="preview")


@pytest.fixture
async def library(tmp_path: Path):
    images = Images.local(tmp_path / "library")
    try:
        yield images
    finally:
        await images.aclose()


@pytest.fixture
def spy(library: Images) -> SpyBackend:
    return SpyBackend(library.backend)


@pytest.fixture
def images(spy: SpyBackend) -> Images:
    return Images(spy)


async def upload(images: Images, data: bytes) -> str:
    return (await images.hosted.upload(data)).id


async def settle(pilot) -> None:
    """Wait for the preview workers; cancelled ones (superseded shows) are expected."""
    for worker in list(pilot.app.workers):
        with contextlib.suppress(WorkerCancelled):
            await worker.wait()
    await pilot.pause()


def message_of(preview: ImagePreview) -> str:
    return str(preview._message.render()) if preview._message.display else ""


def image_shown(preview: ImagePreview) -> bool:
    widget = preview._image
    return widget is not None and widget.display and widget.image is not None


async def test_png_and_jpeg_show_an_image_widget_sized_to_the_panel(images):
    png_id = await upload(images, PNG)
    jpeg_id = await upload(images, JPEG)
    async with Host(images).run_test(size=SIZE) as pilot:
        preview = pilot.app.query_one(ImagePreview)
        preview.show(png_id)
        await settle(pilot)
        assert image_shown(preview) and preview.shown_id == png_id
        assert message_of(preview) == ""
        # 64x48 px in halfcell: native 64 columns x 24 rows (never enlarged past that).
        assert preview._image.size == (64, 24)

        preview.show(jpeg_id)
        await settle(pilot)
        assert image_shown(preview) and preview.shown_id == jpeg_id
        width, height = preview._image.size
        # 4:3 in 80x34 cells of 1:2 -> limited by width: 80 x 30, aspect kept.
        assert (width, height) == (80, 30)
        assert preview._image.image.size[0] <= 192  # a small thumbnail (2x80 px, bucketed), not 800 px


async def test_loading_state_is_shown_while_fetching(images, spy):
    image_id = await upload(images, PNG)
    spy.delay[image_id] = 0.3
    async with Host(images).run_test(size=SIZE) as pilot:
        preview = pilot.app.query_one(ImagePreview)
        preview.show(image_id)
        await pilot.pause()
        assert message_of(preview) == "" and not image_shown(preview)  # no flash of text
        await pilot.pause(LOADING_DELAY + 0.05)
        assert message_of(preview) == LOADING_TEXT and not image_shown(preview)
        await settle(pilot)
        assert image_shown(preview) and message_of(preview) == ""


async def test_halfcell_renders_coloured_cells(images):
    image_id = await upload(images, PNG)
    async with Host(images, mode="halfcell").run_test(size=SIZE) as pilot:
        preview = pilot.app.query_one(ImagePreview)
        preview.show(image_id)
        await settle(pilot)
        strip = preview._image.render_line(5)
        colours = {
            (segment.style.color.triplet, segment.style.bgcolor.triplet)
            for segment in strip
            if segment.style and segment.style.color and segment.text == "▀"
        }
        assert colours == {(RED, RED)}


async def test_transparency_is_flattened_onto_the_panel_background(images):
    image_id = await upload(images, encode(Image.new("RGBA", (16, 16), (255, 0, 0, 0)), "PNG"))
    async with Host(images, mode="halfcell").run_test(size=SIZE) as pilot:
        preview = pilot.app.query_one(ImagePreview)
        preview.show(image_id)
        await settle(pilot)
        background = preview.background_colors[1].rgb
        assert preview._image.image.mode == "RGB"
        assert preview._image.image.getpixel((0, 0)) == background  # not the hidden red


async def test_svg_is_rasterised_and_shown(images):
    image_id = await upload(images, SVG)
    async with Host(images).run_test(size=SIZE) as pilot:
        preview = pilot.app.query_one(ImagePreview)
        preview.show(image_id)
        await settle(pilot)
        assert image_shown(preview)
        assert preview._thumbnail is not None and preview._thumbnail.format == "SVG"


async def test_undecodable_upload_shows_a_message(images):
    image_id = await upload(images, corrupt_png())  # the sniffer accepts it
    async with Host(images).run_test(size=SIZE) as pilot:
        preview = pilot.app.query_one(ImagePreview)
        preview.show(image_id)
        await settle(pilot)
        assert "corrupt" in message_of(preview)
        assert not image_shown(preview)


async def test_animated_gif_shows_first_frame_with_a_note(images):
    image_id = await upload(images, GIF)
    async with Host(images).run_test(size=SIZE) as pilot:
        preview = pilot.app.query_one(ImagePreview)
        preview.show(image_id)
        await settle(pilot)
        assert image_shown(preview)
        assert preview._note.display and str(preview._note.render()) == "Animated GIF: first frame of 2"
        assert preview._image.image.getpixel((0, 0)) == (0, 0, 0)


async def test_missing_and_deleted_images_say_so(images):
    image_id = await upload(images, PNG)
    async with Host(images).run_test(size=SIZE) as pilot:
        preview = pilot.app.query_one(ImagePreview)
        preview.show("no-such-image")
        await settle(pilot)
        assert "not found" in message_of(preview)
        assert preview._message.has_class("-error")

        preview.show(image_id)
        await settle(pilot)
        assert image_shown(preview)
        assert await images.hosted.image(image_id).delete()
        preview.forget(image_id)  # on screen: reloaded, and now it is gone
        await settle(pilot)
        assert "not found" in message_of(preview) and not image_shown(preview)


async def test_images_error_from_bytes_shows_the_code(images, spy):
    spy.error = ImagesError(ErrorCode.NETWORK, "connection refused")
    async with Host(images).run_test(size=SIZE) as pilot:
        preview = pilot.app.query_one(ImagePreview)
        preview.show("any-id")
        await settle(pilot)
        assert message_of(preview) == "Preview failed: ERROR 9000: connection refused"
        assert preview._message.has_class("-error")
        assert pilot.app.is_running  # a failed preview never takes the app down


async def test_rapid_shows_display_only_the_last(images, spy):
    a, b, c = [
        await upload(images, encode(Image.new("RGB", (30, 30), colour), "PNG"))
        for colour in ("red", "lime", "blue")
    ]
    spy.delay[a] = spy.delay[b] = 0.5
    async with Host(images).run_test(size=SIZE) as pilot:
        preview = pilot.app.query_one(RecordingPreview)
        preview.show(a)
        await pilot.pause(0.05)  # a's download is now in flight
        preview.show(b)
        await pilot.pause(0.05)
        preview.show(c)
        await settle(pilot)
        await pilot.pause(0.6)  # long after a and b would have finished
        assert preview.presented == [c]
        assert preview.shown_id == c and image_shown(preview)
        assert spy.cancelled == {a, b}  # the stale downloads were abandoned
        assert preview._image.image.getpixel((0, 0)) == (0, 0, 255)


async def test_cache_hit_avoids_a_second_fetch_and_shows_at_once(images, spy):
    a = await upload(images, PNG)
    b = await upload(images, JPEG)
    async with Host(images).run_test(size=SIZE) as pilot:
        preview = pilot.app.query_one(ImagePreview)
        for image_id in (a, b):
            preview.show(image_id)
            await settle(pilot)
        preview.show(a)
        assert preview.shown_id == a and image_shown(preview)  # synchronously, no worker
        assert spy.calls == Counter({a: 1, b: 1})


async def test_resizing_refits_without_refetching(images, spy):
    image_id = await upload(images, JPEG)
    async with Host(images).run_test(size=SIZE) as pilot:
        preview = pilot.app.query_one(ImagePreview)
        preview.show(image_id)
        await settle(pilot)
        assert preview._image.size == (80, 30)
        await pilot.resize_terminal(40, 34)
        await settle(pilot)
        assert preview._image.size == (40, 15)
        await pilot.resize_terminal(120, 50)
        await settle(pilot)
        assert preview._image.size == (120, 45)
        assert spy.calls[image_id] == 1  # re-decoded from the cached original


async def test_show_none_clears(images):
    image_id = await upload(images, PNG)
    async with Host(images).run_test(size=SIZE) as pilot:
        preview = pilot.app.query_one(ImagePreview)
        preview.show(image_id)
        await settle(pilot)
        preview.show(None)
        await pilot.pause()
        assert not image_shown(preview) and message_of(preview) == ""
        assert preview.shown_id is None


async def test_show_before_mount_loads_once_laid_out(images):
    image_id = await upload(images, PNG)

    class EarlyHost(Host):
        def compose(self) -> ComposeResult:
            preview = ImagePreview(self.images, mode="halfcell")
            preview.show(image_id)
            yield preview

    async with EarlyHost(images).run_test(size=SIZE) as pilot:
        await pilot.pause()
        await settle(pilot)
        assert image_shown(pilot.app.query_one(ImagePreview))


async def test_mode_off_shows_a_hint_and_fetches_nothing(images, spy):
    image_id = await upload(images, PNG)
    async with Host(images, mode="off").run_test(size=SIZE) as pilot:
        preview = pilot.app.query_one(ImagePreview)
        preview.show(image_id)
        await settle(pilot)
        assert preview._image is None
        assert message_of(preview) == OFF_TEXT
        assert "--preview auto" in OFF_TEXT  # says how to get a preview
        assert spy.calls[image_id] == 0


async def test_unicode_mode_renders_too(images):
    image_id = await upload(images, JPEG)
    async with Host(images, mode="unicode").run_test(size=SIZE) as pilot:
        preview = pilot.app.query_one(ImagePreview)
        preview.show(image_id)
        await settle(pilot)
        assert type(preview._image).__name__ == "UnicodeImage"  # made after the first frame
        assert image_shown(preview)
        assert preview._image.render_line(0).text.strip() != ""


async def test_show_cached_never_leaves_another_images_picture_up(images, spy):
    """Holding `j`: the panel names each row at once but show() waits for the cursor to rest.
    show_cached() in between shows a cached picture at once, else nothing, and never fetches."""
    a = await upload(images, PNG)
    b = await upload(images, JPEG)
    async with Host(images).run_test(size=SIZE) as pilot:
        preview = pilot.app.query_one(RecordingPreview)
        preview.show(a)
        await settle(pilot)
        assert preview.shown_id == a and image_shown(preview)

        preview.show_cached(b)  # not cached: a's picture must go, and nothing is fetched
        assert not image_shown(preview) and preview.shown_id is None
        await pilot.pause(LOADING_DELAY + 0.05)
        assert message_of(preview) == "" and spy.calls[b] == 0

        preview.show(b)  # the cursor rested: now it loads
        await settle(pilot)
        assert preview.shown_id == b and image_shown(preview)

        preview.show_cached(a)  # cached: shown synchronously, without a fetch
        assert preview.shown_id == a and image_shown(preview)
        assert preview._image.image.getpixel((0, 0)) == RED
        preview.show(a)  # the debounced show() that follows changes nothing
        await settle(pilot)
        assert spy.calls == Counter({a: 1, b: 1})
        assert preview.presented == [a, b, a]


async def test_show_cached_abandons_a_load_in_flight(images, spy):
    a = await upload(images, PNG)
    b = await upload(images, JPEG)
    spy.delay[a] = 0.5
    async with Host(images).run_test(size=SIZE) as pilot:
        preview = pilot.app.query_one(RecordingPreview)
        preview.show(a)
        await pilot.pause(0.05)  # a's download is in flight
        preview.show_cached(b)
        await settle(pilot)
        await pilot.pause(0.6)
        assert spy.cancelled == {a} and spy.calls[b] == 0
        assert preview.presented == [] and not image_shown(preview)
        assert message_of(preview) == ""  # no "Loading" left behind for a


async def test_show_cached_in_off_mode_keeps_the_hint(images, spy):
    image_id = await upload(images, PNG)
    async with Host(images, mode="off").run_test(size=SIZE) as pilot:
        preview = pilot.app.query_one(ImagePreview)
        preview.show_cached(image_id)
        preview.show(image_id)
        await settle(pilot)
        assert message_of(preview) == OFF_TEXT and spy.calls[image_id] == 0


HALF_BLOCK_RUN = re.compile(
    r'<text class="[^"]*" x="([\d.]+)" y="[\d.]+" textLength="([\d.]+)"[^>]*>(▀+)</text>'
)


async def test_halfcell_export_covers_exactly_the_image_cells(images):
    """The column of light and dark bars right of the picture in rasterised SVG exports is the
    rasteriser's: cairosvg ignores `textLength` and, without Fira Code, draws each `▀` in a
    wider proportional fallback font, so every row's last run spills past the picture. The
    export itself must give the picture exactly its cells, with the panel around it."""
    image_id = await upload(images, JPEG)
    async with Host(images).run_test(size=(60, 20)) as pilot:
        preview = pilot.app.query_one(ImagePreview)
        preview.show(image_id)
        await settle(pilot)
        region = preview._image.region
        assert region.width < 60  # centred with panel on both sides
        svg = pilot.app.export_screenshot()
    runs = [(float(x), float(length), len(text)) for x, length, text in HALF_BLOCK_RUN.findall(svg)]
    assert runs, "no half-block text in the export"
    cell = runs[0][1] / runs[0][2]
    assert all(abs(length - count * cell) < 0.01 for _, length, count in runs)  # one cell each
    columns = Counter()
    for x, _, count in runs:
        first = round(x / cell)
        columns.update(range(first, first + count))
    assert set(columns) == set(range(region.x, region.right))  # nothing left or right of it
    assert set(columns.values()) == {region.height}  # every row, each column once


# -- one paint per image change (issue 15) -------------------------------------------------


class RefreshCounter:
    """Counts refresh() calls on one widget class, by kind."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, cls: type) -> None:
        self.counts: Counter[str] = Counter()
        real = cls.refresh

        def counting(widget, *args, **kwargs):
            kind = "recompose" if kwargs.get("recompose") else "layout" if kwargs.get("layout") else "plain"
            self.counts[kind] += 1
            return real(widget, *args, **kwargs)

        monkeypatch.setattr(cls, "refresh", counting)


@pytest.mark.parametrize("mode", ["sixel", "halfcell", "tgp"])
async def test_an_image_change_repaints_once_without_recomposing(images, mode, monkeypatch):
    """textual-image's Sixel widget recomposed on every new picture (a new drawer child,
    ~9 layout refreshes, painted over two frames: the blink of xterm and mlterm). Now the
    picture is swapped into the same drawer: one layout refresh, no recompose."""
    first = await upload(images, encode(Image.new("RGB", (64, 48), RED), "PNG"))
    second = await upload(images, encode(Image.new("RGB", (64, 48), (20, 30, 200)), "PNG"))
    async with Host(images, mode=mode).run_test(size=SIZE) as pilot:
        preview = pilot.app.query_one(ImagePreview)
        for image_id in (first, second):
            preview.show(image_id)
            await settle(pilot)
        widget = preview._image
        drawers = list(widget.children)
        counter = RefreshCounter(monkeypatch, type(widget))
        preview.show(first)  # cached: the picture changes synchronously
        await pilot.pause()
        assert preview.shown_id == first and widget.image is not None
        assert counter.counts["recompose"] == 0
        assert counter.counts["layout"] <= 1
        assert list(widget.children) == drawers  # the same drawer: nothing mounted or removed
        if mode == "sixel":
            assert drawers and drawers[0].image is widget.image


# -- cell size follows the terminal (issue 15) ---------------------------------------------


@pytest.fixture
def cells(monkeypatch: pytest.MonkeyPatch):
    """The kernel's cell size as the preview will read it; textual-image's caches restored after."""
    import importlib

    import imgtui.terminal

    terminal_module = importlib.import_module("textual_image._terminal")
    for function in (terminal_module.get_cell_size, getattr(terminal_module, "probe_terminal", None)):
        if function is not None and hasattr(function, "_result"):
            monkeypatch.setattr(function, "_result", function._result)
    measured: list[tuple[int, int] | None] = [None]
    monkeypatch.setattr(imgtui.terminal, "measure_cell_size", lambda fd=None: measured[0])
    return measured


async def test_new_cells_refit_and_re_decode_the_picture(images, cells, caplog):
    """A font change: same columns and rows, new cell pixels. The periodic check (or a
    resize) re-measures, and the picture is decoded again for the new box."""
    caplog.set_level("INFO", logger="imgtui.preview")
    image_id = await upload(images, JPEG)
    async with Host(images, mode="sixel").run_test(size=SIZE) as pilot:
        preview = pilot.app.query_one(ImagePreview)
        preview.show(image_id)
        await settle(pilot)
        before_box, before_size = preview._request.box, preview._image.size
        cells[0] = (20, 20)  # square cells, twice as wide
        preview._check_cell_size()
        await settle(pilot)
        assert preview._request.box != before_box
        assert preview._image.size != before_size
        from imgtui.ui.preview.terminal import cell_size

        assert tuple(cell_size()) == (20, 20)
        assert "cell size now 20x20 px" in caplog.text  # the --debug log says so
        cells[0] = (20, 20)
        box = preview._request.box
        preview._check_cell_size()  # unchanged: nothing to do
        assert preview._request.box == box


async def test_a_forced_mode_the_terminal_cannot_draw_becomes_a_warning(images, monkeypatch):
    import imgtui.terminal
    from imgtui.terminal.decide import decide
    from imgtui.terminal.replies import parse

    xterm = parse(b"\x1bP>|XTerm(379)\x1b\\\x1b[?63;1;2;4;6;9;15;16;22;28c")
    decision = decide(xterm, asked="tgp")
    assert decision.mode == "sixel" and decision.warning
    monkeypatch.setattr(imgtui.terminal, "current", lambda: decision)
    async with Host(images, mode=decision.mode).run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert [n.message for n in pilot.app._notifications] == [decision.warning]
