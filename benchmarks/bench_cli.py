"""The command line's speed: `imgtui cp` against a plain official-SDK loop, and `ls --ndjson`.

    .venv/bin/python benchmarks/bench_cli.py [--images 2000] [--list-images 100000]

1. Copy N small images from a local library to `imgtui serve` (its own process, loopback
   TCP, a fresh library per run) with `imgtui cp` (in-process, `--jobs 1` and the default 4),
   and with the loop a one-off script would be: for each image, read its bytes, then
   `AsyncCloudflare.images.v1.create(...)` with the same id, filename and creator.
2. `imgtui ls --ndjson` over a library of 100k images (filled with `LocalBackend.fill_unchecked`,
   as benchmarks/bench_tui.py does), in a fresh process: time to the first line, to the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import cloudflare
from library_fill import fill_library
from PIL import Image
from serve_process import ServeProcess

from imgtui.commands import main as commands_main
from imgtui.service import Images

ACCOUNT = "0123456789abcdef0123456789abcdef"
TOKEN = "bench-token"


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 200)).save(out, "PNG")
    return out.getvalue()


def _time_cp(source: pathlib.Path, api_url: str, jobs: int) -> float:
    os.environ["CLOUDFLARE_API_TOKEN"] = TOKEN
    started = time.perf_counter()
    with contextlib.redirect_stderr(io.StringIO()) as err:
        code = commands_main(["cp", str(source), api_url, "--jobs", str(jobs)])
    elapsed = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"imgtui cp failed: {err.getvalue()}")
    return elapsed


async def _time_sdk_loop(source: pathlib.Path, api_url: str) -> float:
    started = time.perf_counter()
    async with (
        Images.local(source) as images,
        cloudflare.AsyncCloudflare(api_token=TOKEN, base_url=api_url) as sdk,
    ):
        cursor = None
        while True:
            page = await images.hosted.list(limit=1000, cursor=cursor)
            for image in page.images:
                data = await images.hosted.image(image.id).read()
                assert data is not None
                kwargs = {"creator": image.creator} if image.creator else {}
                await sdk.images.v1.create(
                    account_id=ACCOUNT,
                    file=(image.filename or "image.png", data, "image/png"),
                    id=image.id,
                    **kwargs,
                )
            if page.list_complete or not page.cursor:
                break
            cursor = page.cursor
    return time.perf_counter() - started


def _fresh_server(tmp: pathlib.Path, name: str) -> ServeProcess:
    return ServeProcess(tmp / name, TOKEN)


def bench_cp(tmp: pathlib.Path, count: int) -> list[tuple[str, float]]:
    source = tmp / "source"
    asyncio.run(fill_library(source, count, _png()))
    results: list[tuple[str, float]] = []
    runs = [
        ("cloudflare SDK loop", lambda url: asyncio.run(_time_sdk_loop(source, url))),
        ("imgtui cp --jobs 1", lambda url: _time_cp(source, url, 1)),
        ("imgtui cp (--jobs 4)", lambda url: _time_cp(source, url, 4)),
    ]
    for n, (name, run) in enumerate(runs):
        server = _fresh_server(tmp, f"dest{n}")
        try:
            results.append((name, run(server.api_url)))
        finally:
            server.stop()
    return results


def bench_ls(tmp: pathlib.Path, count: int, repeats: int = 3) -> tuple[float, float, float]:
    library = tmp / "big"
    started = time.perf_counter()
    asyncio.run(fill_library(library, count, _png()))
    fill_s = time.perf_counter() - started
    firsts, ends = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "imgtui", "ls", "--library", str(library), "--ndjson"],
            stdout=subprocess.PIPE,
            env={k: v for k, v in os.environ.items() if not k.startswith("CLOUDFLARE_")},
        )
        assert process.stdout is not None
        process.stdout.readline()
        firsts.append(time.perf_counter() - started)
        lines = 1 + sum(1 for _ in process.stdout)
        process.wait()
        ends.append(time.perf_counter() - started)
        assert lines == count, lines
    return fill_s, statistics.median(firsts), statistics.median(ends)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=2000, help="images to copy (default 2000)")
    parser.add_argument("--list-images", type=int, default=100_000, help="library for ls (default 100000)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        tmp = pathlib.Path(name)
        copies = bench_cp(tmp, args.images)
        fill_s, first_s, end_s = bench_ls(tmp, args.list_images)

    sdk_s = copies[0][1]
    print(f"copy {args.images} images (64x48 PNG) local -> imgtui serve (own process, loopback)")
    print(f"{'client':<24}{'seconds':>9}{'images/s':>10}{'vs SDK':>8}")
    for client, seconds in copies:
        print(f"{client:<24}{seconds:>9.2f}{args.images / seconds:>10.0f}{sdk_s / seconds:>7.2f}x")
    print()
    print(f"imgtui ls --ndjson, {args.list_images} images (fresh process, median of 3; fill {fill_s:.1f} s)")
    print(f"{'first line':<24}{first_s * 1000:>9.0f} ms")
    print(f"{'last line':<24}{end_s:>9.2f} s ({args.list_images / end_s:,.0f} images/s)")


if __name__ == "__main__":
    main()
