"""Preview latency: a 4000x3000 photo-like JPEG in a ~60x30-cell panel.

    .venv/bin/python benchmarks/bench_preview.py [--runs 7]

Prints a table of:
- decode alone (fetch excluded), with and without `Image.draft()`, for the pixel box a
  graphics-protocol renderer needs (60x30 cells x 10x20 px) and the one halfcell needs;
- the loader (fetch from a local library + decode), cold, for the TGP/Sixel box;
- the widget in a headless app (halfcell): from `show()` to the image widget having its
  image set, cold (nothing cached) and cached, and to the next painted frame.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from PIL import Image, ImageChops

from imgtui.service import Images
from imgtui.ui.preview.decode import decode_thumbnail
from imgtui.ui.preview.geometry import decode_box
from imgtui.ui.preview.loader import PreviewLoader, bucket_box
from imgtui.ui.preview.terminal import FALLBACK_CELL_SIZE, CellSize, prepare_terminal

PANEL = (60, 30)  # cells
CELL = CellSize(*FALLBACK_CELL_SIZE)


def photo_like_jpeg(width: int = 4000, height: int = 3000) -> bytes:
    """Smooth colour gradients plus sensor-like noise: compresses like a photo (~2-4 MB)."""
    horizontal = Image.linear_gradient("L").rotate(90).resize((width, height))
    vertical = Image.linear_gradient("L").resize((width, height))
    radial = Image.radial_gradient("L").resize((width, height))
    base = Image.merge("RGB", (horizontal, vertical, radial))
    noise = Image.effect_noise((width, height), 24).convert("RGB")
    photo = ImageChops.add(base, noise, scale=1.0, offset=-100)
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def row(name: str, samples_ms: list[float]) -> str:
    return (
        f"| {name:<60} | {statistics.median(samples_ms):8.1f} | {min(samples_ms):8.1f} "
        f"| {max(samples_ms):8.1f} | {len(samples_ms):3d} |"
    )


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


async def timed_async(fn: Callable[[], Awaitable[object]], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        await fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


async def widget_latencies(images: Images, image_id: str, other_id: str, runs: int) -> dict[str, list[float]]:
    from textual.app import App, ComposeResult

    from imgtui.ui.widgets.preview import ImagePreview

    class TimedPreview(ImagePreview):
        presented_at: float = 0.0
        presented = asyncio.Event()

        def _present(self, request, outcome) -> None:
            super()._present(request, outcome)
            self.presented_at = time.perf_counter()
            self.presented.set()

    class Host(App):
        CSS = f"TimedPreview {{ width: {PANEL[0]}; height: {PANEL[1]}; }}"

        def compose(self) -> ComposeResult:
            yield TimedPreview(images, mode="halfcell")

    results: dict[str, list[float]] = {
        "cold_set": [],
        "cold_painted": [],
        "cached_set": [],
        "cached_painted": [],
        "move_hit": [],
        "move_miss": [],
    }
    async with Host().run_test(size=(100, 40)) as pilot:
        preview = pilot.app.query_one(TimedPreview)
        await pilot.pause()
        for _ in range(runs):
            preview.show(None)
            preview.forget(image_id)
            await pilot.pause()
            preview.presented.clear()
            start = time.perf_counter()
            preview.show(image_id)
            await preview.presented.wait()
            results["cold_set"].append((preview.presented_at - start) * 1000)
            await pilot.pause()
            results["cold_painted"].append((time.perf_counter() - start) * 1000)

            preview.show(other_id)  # cached as well after the first round
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()
            preview.presented.clear()
            start = time.perf_counter()
            preview.show(image_id)
            await preview.presented.wait()
            results["cached_set"].append((preview.presented_at - start) * 1000)
            await pilot.pause()
            results["cached_painted"].append((time.perf_counter() - start) * 1000)

            # What each key repeat of a held `j` costs the UI thread (DetailsPanel calls
            # show_cached() on every cursor move, show() once the cursor rests).
            start = time.perf_counter()
            preview.show_cached(other_id)
            results["move_hit"].append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            preview.show_cached("not-cached")
            results["move_miss"].append((time.perf_counter() - start) * 1000)
            await pilot.pause()
    return results


def repaint_rows(data: bytes, halfcell_box: tuple[int, int], runs: int) -> list[str]:
    """What textual-image pays on every repaint (resize, focus, restyle) in halfcell:
    it copies and rescales whatever image it was given."""
    from rich.console import Console
    from textual_image.renderable import HalfcellImage

    console = Console(file=io.StringIO(), width=PANEL[0], height=PANEL[1], color_system="truecolor")
    thumbnail = decode_thumbnail(data, halfcell_box).image
    full = Image.open(io.BytesIO(data))
    full.load()
    rows = []
    for label, image in (("our thumbnail", thumbnail), ("the 4000x3000 original", full)):
        samples = timed(lambda image=image: console.print(HalfcellImage(image, PANEL[0], 22)), runs)
        rows.append(row(f"halfcell repaint of {label} (ms)", samples))
    return rows


async def main(runs: int) -> None:
    prepare_terminal("halfcell")  # as the CLI does: textual-image probes before any app runs
    print("building a 4000x3000 photo-like JPEG (quality 90)...", file=sys.stderr)
    data = photo_like_jpeg()
    small = io.BytesIO()
    Image.new("RGB", (400, 300), "gray").save(small, "JPEG")
    tgp_box = bucket_box(*decode_box("tgp", PANEL, CELL))
    halfcell_box = bucket_box(*decode_box("halfcell", PANEL, CELL))

    lines = [
        f"JPEG 4000x3000, {len(data) / 1e6:.1f} MB; panel {PANEL[0]}x{PANEL[1]} cells; "
        f"TGP/Sixel box {tgp_box[0]}x{tgp_box[1]} px, halfcell box {halfcell_box[0]}x{halfcell_box[1]} px",
        "",
        f"| {'scenario':<60} | {'median':>8} | {'min':>8} | {'max':>8} | {'n':>3} |",
        f"|{'-' * 62}|{'-' * 10}|{'-' * 10}|{'-' * 10}|{'-' * 5}|",
    ]
    for label, box in (("TGP/Sixel", tgp_box), ("halfcell", halfcell_box)):
        for use_draft in (False, True):
            samples = timed(lambda box=box, d=use_draft: decode_thumbnail(data, box, use_draft=d), runs)
            lines.append(
                row(f"decode alone, {label} box, draft={'on' if use_draft else 'off'} (ms)", samples)
            )

    lines.extend(repaint_rows(data, halfcell_box, runs))

    with tempfile.TemporaryDirectory() as tmp:
        async with Images.local(Path(tmp) / "library") as images:
            image_id = (await images.hosted.upload(data)).id
            other_id = (await images.hosted.upload(small.getvalue())).id

            loader = PreviewLoader(images)

            async def cold_load() -> None:
                loader.forget(image_id)
                await loader.load(image_id, tgp_box)

            lines.append(
                row("loader cold: fetch + decode, TGP/Sixel box (ms)", await timed_async(cold_load, runs))
            )
            loader.close()

            widget = await widget_latencies(images, image_id, other_id, runs)
            lines.append(row("widget cold (halfcell): show() -> image set (ms)", widget["cold_set"]))
            lines.append(
                row("widget cold (halfcell): show() -> next frame painted (ms)", widget["cold_painted"])
            )
            lines.append(row("widget cached (halfcell): show() -> image set (ms)", widget["cached_set"]))
            lines.append(
                row("widget cached (halfcell): show() -> next frame painted (ms)", widget["cached_painted"])
            )
            lines.append(row("cursor move, show_cached() hit: call (ms)", widget["move_hit"]))
            lines.append(row("cursor move, show_cached() miss: call (ms)", widget["move_miss"]))
    print("\n".join(lines))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7)
    asyncio.run(main(parser.parse_args().runs))
