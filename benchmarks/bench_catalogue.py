"""The catalogue at scale: cataloguing speed, search keystroke latency, window reads, memory.

    .venv/bin/python benchmarks/bench_catalogue.py [--images 1000000] [--serve-images 100000]

Builds a local library with the benchmark-only bulk fill (never for the product), catalogues
it through `Images.local` (pages of --page), then, in a fresh process that holds only the
catalogue and a window (its peak RSS is the figure), times a search keystroke (the filtered
count plus the first screen of rows), `rows()` at the top and at the end (`G`), `position_of`
and `n`. Last, catalogues the first --serve-images of the same library through `imgtui serve`
in its own process (real loopback HTTP, pages of 1000). Prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pathlib
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

from library_fill import fill_library
from serve_process import ServeProcess

from imgtui.catalogue import CatalogueStore, CatalogueWalker, CatalogueWindow, Sort, parse_query
from imgtui.service import Images

TOKEN = "bench-token"
SCREEN = 50
CAP = 10_000
QUERIES = ["000123", "bench/0999", "alice", "creator:bob", "-creator:alice 4242", "ab"]


def tiny_png() -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00\x1e\x78\xc8")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


async def catalogue(images: Images, path: pathlib.Path, page: int, limit: int | None) -> tuple[int, float]:
    store = CatalogueStore(path)
    try:
        walker = CatalogueWalker(images, store, page_size=page)
        started = time.perf_counter()
        done = 0
        async for progress in walker.walk():
            done = progress.done
            if limit is not None and done >= limit:
                break
        return done, time.perf_counter() - started
    finally:
        await store.aclose()


def _ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000


async def _timed(runs: int, make: Any) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await make()
        samples.append(time.perf_counter() - started)
    return samples


async def child(path: str, runs: int) -> dict[str, Any]:
    """Only the catalogue and a window: what the TUI would hold."""
    store = CatalogueStore(pathlib.Path(path))
    window = CatalogueWindow(store)
    out: dict[str, Any] = {}
    try:
        started = time.perf_counter()
        total = await window.set_view(None, Sort("uploaded", True))
        out["open+count"] = (time.perf_counter() - started) * 1000
        out["total"] = total
        for name, offset in (("rows top", 0), ("rows end (G)", total - SCREEN), ("rows middle", total // 2)):
            out[name] = _ms(await _timed(runs, lambda o=offset: window.rows(o, SCREEN)))
        last = (await window.rows(total - 1, 1))[0].id
        out["position_of(last)"] = _ms(await _timed(runs, lambda: window.position_of(last)))
        for column in ("filename", "size"):
            await window.set_view(None, Sort(column, False))  # type: ignore[arg-type]
            out[f"rows end, by {column}"] = _ms(
                await _timed(runs, lambda: window.rows(total - SCREEN, SCREEN))
            )
        await window.set_view(None, Sort("uploaded", True))
        for text in QUERIES:
            query = parse_query(text)

            async def keystroke(query: Any = query) -> None:
                # what the TUI does per keystroke: the first screen, then "N matches" up to a cap
                searched = CatalogueWindow(store)
                await searched.set_view(query, exact=False)
                await searched.rows(0, SCREEN)
                await searched.count(cap=CAP)

            out[f"search {text!r} (screen + count to {CAP:,})"] = _ms(await _timed(runs, keystroke))
            out[f"  exact count {text!r}"] = _ms(
                await _timed(max(3, runs // 4), lambda q=query: window.count(q))
            )
            out[f"  matches {text!r}"] = await window.count(query)
        match = parse_query("bench/0999")
        out["n (next match)"] = _ms(await _timed(runs, lambda: window.next_match(match, last)))
    finally:
        await store.aclose()
    out["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=100_000)
    parser.add_argument("--serve-images", type=int, default=100_000)
    parser.add_argument("--page", type=int, default=1_000, help="list page size for the local walk")
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(child(args.child[0], int(args.child[1])))))
        return 0
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = pathlib.Path(tmp)
        fill_s = asyncio.run(fill_library(root / "lib", args.images, tiny_png(), digits=7))
        rows.append((f"fill {args.images:,} (bench-only bulk insert)", f"{fill_s:.1f} s"))

        async def local_walk() -> tuple[int, float]:
            async with Images.local(root / "lib") as images:
                return await catalogue(images, root / "cat.sqlite3", args.page, None)

        done, seconds = asyncio.run(local_walk())
        rows.append(
            (f"catalogue local, pages of {args.page}", f"{done / seconds:,.0f} images/s ({seconds:.1f} s)")
        )
        rows.append(("catalogue file", f"{(root / 'cat.sqlite3').stat().st_size / 1e6:.0f} MB"))

        result = subprocess.run(
            [sys.executable, __file__, "--child", str(root / "cat.sqlite3"), str(args.runs)],
            capture_output=True,
            text=True,
            check=True,
        )
        measured = json.loads(result.stdout)
        for name, value in measured.items():
            if isinstance(value, list):
                rows.append((name, f"median {value[0]:.1f} ms, p95 {value[1]:.1f} ms"))
            elif name == "rss_mb":
                rows.append(("peak RSS, process holding the window", f"{value:.0f} MB"))
            elif name == "open+count":
                rows.append((name, f"{value:.1f} ms"))
            else:
                rows.append((name, f"{value:,}"))

        server = ServeProcess(root / "lib", TOKEN)
        try:

            async def serve_walk() -> tuple[int, float]:
                account = "0123456789abcdef0123456789abcdef"
                async with Images.cloudflare(account, TOKEN, base_url=server.api_url) as images:
                    return await catalogue(images, root / "serve.sqlite3", 1_000, args.serve_images)

            async def serve_list_only() -> tuple[int, float]:
                # The API's bound for one request in flight: the same pages, nothing stored.
                account = "0123456789abcdef0123456789abcdef"
                async with Images.cloudflare(account, TOKEN, base_url=server.api_url) as images:
                    started = time.perf_counter()
                    listed, cursor = 0, None
                    while listed < args.serve_images:
                        page = await images.hosted.list(limit=1_000, cursor=cursor, sort_order="desc")
                        listed += len(page.images)
                        if page.list_complete or not page.cursor:
                            break
                        cursor = page.cursor
                    return listed, time.perf_counter() - started

            done, seconds = asyncio.run(serve_walk())
            listed, list_seconds = asyncio.run(serve_list_only())
        finally:
            server.stop()
        rows.append(
            (
                f"catalogue {done:,} via imgtui serve, pages of 1000",
                f"{done / seconds:,.0f} images/s ({seconds:.1f} s)",
            )
        )
        bound = listed / list_seconds
        rows.append(
            (
                "  the API's bound: list the same pages, store nothing",
                f"{bound:,.0f} images/s: cataloguing runs at {done / seconds / bound:.0%} of it",
            )
        )
    width = max(len(name) for name, _ in rows)
    print(f"catalogue benchmark, {args.images:,} images, {os.cpu_count()} cores")
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
