"""Grid thumbnails: generation rate on 2 threads, cold vs warm disk cache vs memory; disk-cache
bytes per 1,000 images; SVG rasterising.

    .venv/bin/python benchmarks/bench_thumbnails.py [--images 48] [--runs 3] [--box 192x144]

Photos are 1600x1200 JPEGs (gradients plus noise: they compress like photos, ~0.5 MB), put
into a temporary local library. Each run uses a fresh cache directory for "cold" (made from
the originals), then a fresh `Thumbnails` on the same directory for "warm disk" (memory
empty), then the same instance again for "memory" (`peek`, what a warm grid paints from).
The default box is a 160x45 grid cell (about 19x7 cells at 10x20 px) for a graphics protocol.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageChops

from imgtui.service import Images
from imgtui.workflows import svg_raster, svg_sanitise
from imgtui.workflows.image_decode import decode_thumbnail
from imgtui.workflows.thumbnails import Thumbnails


def photo_jpeg(seed: int, width: int = 1600, height: int = 1200) -> bytes:
    horizontal = Image.linear_gradient("L").rotate(90 + seed * 7, expand=False).resize((width, height))
    vertical = Image.linear_gradient("L").resize((width, height))
    radial = Image.radial_gradient("L").resize((width, height))
    base = Image.merge("RGB", (horizontal, vertical, radial))
    noise = Image.effect_noise((width, height), 20 + seed % 10).convert("RGB")
    photo = ImageChops.add(base, noise, scale=1.0, offset=-100)
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=90)
    return out.getvalue()


def square_draft_decode(data: bytes, box: tuple[int, int]) -> Image.Image:
    """The decoder before this change: JPEG draft at the box itself, whatever the aspect."""
    with Image.open(io.BytesIO(data)) as source:
        source.draft("RGB", box)
        source.thumbnail(box, Image.Resampling.BICUBIC, reducing_gap=2.0)
        return source.convert("RGB")


def complex_svg(shapes: int) -> bytes:
    body = "".join(
        f'<circle cx="{i % 200 * 5}" cy="{i // 200 * 5}" r="{2 + i % 9}" fill="hsl({i * 7 % 360},70%,50%)"'
        f' opacity=".6"/>'
        for i in range(shapes)
    )
    gradient = (
        '<defs><linearGradient id="g"><stop offset="0" stop-color="#036"/>'
        '<stop offset="1" stop-color="#f90"/></linearGradient></defs>'
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1000 {max(100, shapes // 200 * 5)}">'
        f'{gradient}<rect width="100%" height="100%" fill="url(#g)"/>{body}'
        '<text x="20" y="60" font-size="48">imgtui</text></svg>'
    ).encode()


def row(name: str, value: str, note: str = "") -> str:
    return f"| {name:<46} | {value:>16} | {note:<40} |"


async def grid_pass(source: Thumbnails, records: list, box: tuple[int, int]) -> tuple[float, set[str]]:
    started = time.perf_counter()
    results = await asyncio.gather(*(source.get(record, box, priority=n) for n, record in enumerate(records)))
    took = time.perf_counter() - started
    problems = [result.problem for result in results if result.problem]
    if problems:
        raise SystemExit(f"thumbnails failed: {problems[:3]}")
    return took, {result.source for result in results}


async def measure(count: int, runs: int, box: tuple[int, int], threads: int) -> list[str]:
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="imgtui-bench-thumbs-") as temp:
        root = Path(temp)
        started = time.perf_counter()
        photos = [photo_jpeg(n) for n in range(count)]
        made = time.perf_counter() - started
        mean_kb = statistics.mean(len(photo) for photo in photos) / 1024
        async with Images.local(root / "lib") as images:
            records = [
                await images.hosted.upload(photo, id=f"photo-{n:04d}") for n, photo in enumerate(photos)
            ]
            cold, warm, memory, disk_bytes = [], [], [], 0
            for run in range(runs):
                cache = root / f"cache-{run}"
                first = Thumbnails(images, cache_dir=cache, threads=threads)
                took, sources = await grid_pass(first, records, box)
                assert sources == {"original"}, sources
                cold.append(count / took)
                disk_bytes = first.disk.disk_bytes()
                await first.aclose()
                second = Thumbnails(images, cache_dir=cache, threads=threads)
                took, sources = await grid_pass(second, records, box)
                assert sources == {"cache"}, sources
                warm.append(count / took)
                started = time.perf_counter()
                hits = [second.peek(record, box) for record in records]
                took = time.perf_counter() - started
                assert all(hit is not None for hit in hits)
                memory.append(count / took)
                await second.aclose()
        # The disk bucket for the box is a square: a 4:3 photo used to be drafted at the square
        # (decoding twice the pixels); now at its fitted size. Interleaved, so load is shared.
        bucket = next(side for side in (64, 128, 192, 256, 384, 512, 768, 1024) if side >= max(box))
        decode_ms, square_ms = [], []
        for _ in range(runs):
            for photo in photos[: min(12, count)]:
                started = time.perf_counter()
                decode_thumbnail(photo, (bucket, bucket))
                decode_ms.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                square_draft_decode(photo, (bucket, bucket))
                square_ms.append((time.perf_counter() - started) * 1000)

    def rate(samples: list[float]) -> str:
        return f"{statistics.median(samples):,.0f} img/s"

    spread = f"median of {runs}, {count} images"
    lines.append(
        row("photos generated (1600x1200 JPEG q90)", f"{mean_kb:,.0f} KB avg", f"{count} in {made:.1f} s")
    )
    lines.append(row(f"cold: from originals, {threads} threads, box {box[0]}x{box[1]}", rate(cold), spread))
    lines.append(row("warm disk cache (new session)", rate(warm), spread))
    lines.append(row("memory cache (peek)", rate(memory), spread))
    now_ms, before_ms = statistics.median(decode_ms), statistics.median(square_ms)
    lines.append(row(f"decode a photo to {bucket}x{bucket}: fitted draft", f"{now_ms:.1f} ms", "1 thread"))
    lines.append(row(f"decode a photo to {bucket}x{bucket}: square draft", f"{before_ms:.1f} ms", "before"))
    per_thousand = disk_bytes / count * 1000
    lines.append(
        row(
            "disk cache per 1,000 images",
            f"{per_thousand / 2**20:,.1f} MiB",
            f"{disk_bytes / count / 1024:.1f} KB a thumbnail",
        )
    )
    return lines


def measure_svg(runs: int) -> list[str]:
    lines: list[str] = []
    svg_raster.shutdown()
    simple = complex_svg(40)
    started = time.perf_counter()
    svg_raster.rasterise(simple, (256, 256))
    lines.append(
        row(
            "SVG: first render (starts the child process)", f"{(time.perf_counter() - started) * 1000:.0f} ms"
        )
    )
    for shapes in (40, 2000, 20000):
        data = complex_svg(shapes)
        samples = []
        for _ in range(max(3, runs)):
            started = time.perf_counter()
            svg_raster.rasterise(data, (256, 256))
            samples.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        svg_sanitise.sanitise(data)
        parse_ms = (time.perf_counter() - started) * 1000
        lines.append(
            row(
                f"SVG: {shapes} shapes ({len(data) // 1024} KB) to 256x256",
                f"{statistics.median(samples):.1f} ms",
                f"sanitising alone {parse_ms:.1f} ms (in the child)",
            )
        )
    svg_raster.shutdown()
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=48)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--box", default="192x144", help="pixels, WxH")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-svg", action="store_true")
    args = parser.parse_args(argv)
    width, _, height = args.box.partition("x")
    box = (int(width), int(height))
    lines = [row("measure", "value", "notes"), f"|{'-' * 48}|{'-' * 18}|{'-' * 42}|"]
    lines += asyncio.run(measure(args.images, args.runs, box, args.threads))
    if not args.no_svg:
        lines += measure_svg(args.runs)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
