"""How fast the browser starts and pages, measured headless (`App.run_test`).

    .venv/bin/python benchmarks/bench_tui.py [--images 100000] [--runs 5]

1. Launch to first page painted, against an empty Textual app measured the same way
   (target: within 1.5x of the empty app).
2. Paging through every image of a large local library with `G` (last row, which asks for
   the next page): wall time, peak RSS of the process (target: under 300 MB at 100k), and
   the longest event-loop stall seen by a probe task (target: never over 50 ms).

Each measurement runs in a fresh child process, so peak RSS and import caches are its own.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROBE_INTERVAL = 0.005


class LoopLagProbe:
    """Sleeps PROBE_INTERVAL in a loop; any extra delay is time the event loop was blocked."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            await asyncio.sleep(PROBE_INTERVAL)
            self.worst = max(self.worst, loop.time() - started - PROBE_INTERVAL)

    def __enter__(self) -> LoopLagProbe:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


async def poll_until(predicate) -> None:
    """Wait for widget state; the app exposes no event for it, and 1 ms polling is precise enough."""
    while not predicate():  # noqa: ASYNC110
        await asyncio.sleep(0.001)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# ----------------------------------------------------------------------------- children


class FirstFrame:
    """When the first frame satisfying `ready()` was composed (Screen._compositor_refresh is
    where Textual draws a frame): the same probe for both apps, so they are measured alike."""

    def __init__(self, ready) -> None:
        from textual.screen import Screen

        self.at: float | None = None
        original = Screen._compositor_refresh

        def refresh(screen) -> None:
            original(screen)
            if self.at is None and ready(screen.app):
                self.at = time.perf_counter()

        Screen._compositor_refresh = refresh


async def child_empty_app() -> dict:
    started = time.perf_counter()
    from textual.app import App
    from textual.widgets import Footer, Header

    class Empty(App[None]):
        def compose(self):
            yield Header()
            yield Footer()

    frame = FirstFrame(lambda app: True)
    app = Empty()
    async with app.run_test(size=(150, 42)) as pilot:
        await poll_until(lambda: frame.at is not None)
        await pilot.pause()
        idle = time.perf_counter() - started
    return {"frame": frame.at - started, "idle": idle}


async def child_first_page(library: str) -> dict:
    started = time.perf_counter()
    from imgtui.service import Images
    from imgtui.ui.app import ImgTuiApp
    from imgtui.ui.config import UiConfig

    def rows_on_screen(app) -> bool:
        tables = app.screen.query("#images")
        return bool(tables) and tables.first().row_count > 0

    frame = FirstFrame(rows_on_screen)
    app = ImgTuiApp(Images.local(library), preview_mode="off", config=UiConfig())
    async with app.run_test(size=(150, 42)) as pilot:
        await poll_until(lambda: frame.at is not None)
        await pilot.pause()  # and until everything else at startup settled
        idle = time.perf_counter() - started
        assert app.screen.query_one("#images").render_line(1).text.strip()
    return {"frame": frame.at - started, "idle": idle}


async def child_page_all(library: str) -> dict:
    from imgtui.service import Images
    from imgtui.ui.app import ImgTuiApp
    from imgtui.ui.config import UiConfig

    app = ImgTuiApp(Images.local(library), preview_mode="off", config=UiConfig())
    async with app.run_test(size=(150, 42)) as pilot:
        table = app.screen.query_one("#images")
        await poll_until(lambda: table.loaded_count > 0)
        with LoopLagProbe() as probe:
            started = time.perf_counter()
            presses = 0
            while not table.is_complete:
                await pilot.press("G")
                presses += 1
                await poll_until(lambda: table.load_state != "loading")
                if table.load_state == "error":
                    raise SystemExit("listing failed")
            seconds = time.perf_counter() - started
            # Then move around the loaded rows, one repaint per move: the cost of a move
            # must not grow with the row count.
            actions = [table.action_first, *[table.action_page_down] * 20, table.action_last]
            actions += [table.action_cursor_up] * 20
            moves = time.perf_counter()
            for action in actions:
                action()
                await pilot.pause()
            move_seconds = (time.perf_counter() - moves) / len(actions)
        loaded = table.loaded_count
    return {
        "seconds": seconds,
        "rows": loaded,
        "presses": presses,
        "worst_stall_ms": probe.worst * 1000,
        "peak_rss_mb": peak_rss_mb(),
        "moves_seconds": move_seconds,
    }


CHILDREN = {"empty": child_empty_app, "first": child_first_page, "all": child_page_all}


def run_child(kind: str, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, *args], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- setup


def tiny_png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (30, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


async def fill_library(path: Path, count: int) -> float:
    """Bulk insert (the library's benchmark helper: one transaction, no per-image checks)."""
    from imgtui.backends.local import LocalBackend, store

    started = time.perf_counter()
    backend = LocalBackend(path)
    await backend.count()  # opens and creates the library
    data = tiny_png()
    creators = ["alice", "bob", "carol", None]
    batch = 20_000
    for start in range(0, count, batch):
        rows = [
            (f"bench/{n:06d}.png", data, creators[n % 4]) for n in range(start, min(start + batch, count))
        ]
        await backend._writer.run(store.bulk_insert_unchecked, rows)
    await backend.aclose()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        print(json.dumps(asyncio.run(CHILDREN[kind](*rest))))
        return 0

    with tempfile.TemporaryDirectory(prefix="imgtui-bench-") as tmp:
        small = Path(tmp) / "small"
        large = Path(tmp) / "large"
        asyncio.run(fill_library(small, 1_000))
        fill_seconds = asyncio.run(fill_library(large, args.images))
        empty = [run_child("empty") for _ in range(args.runs)]
        first = [run_child("first", str(small)) for _ in range(args.runs)]
        paging = run_child("all", str(large))

    empty_s = statistics.median(run["frame"] for run in empty)
    first_s = statistics.median(run["frame"] for run in first)
    empty_idle = statistics.median(run["idle"] for run in empty)
    first_idle = statistics.median(run["idle"] for run in first)
    ratio = first_s / empty_s
    rows = [
        ("empty Textual app: launch to first frame", f"{empty_s * 1000:.0f} ms", "median", ""),
        ("imgtui: launch to first frame with a page", f"{first_s * 1000:.0f} ms", "median", ""),
        ("  ratio to the empty app", f"{ratio:.2f}x", "target ≤ 1.5x", _ok(ratio <= 1.5)),
        ("  until idle: empty / imgtui", f"{empty_idle * 1000:.0f}/{first_idle * 1000:.0f} ms", "median", ""),
        (
            f"page through {paging['rows']:,} images (G)",
            f"{paging['seconds']:.2f} s",
            f"{paging['presses']} presses",
            "",
        ),
        (
            "  peak RSS",
            f"{paging['peak_rss_mb']:.0f} MB",
            "target < 300 MB",
            _ok(paging["peak_rss_mb"] < 300),
        ),
        (
            "  longest event-loop stall",
            f"{paging['worst_stall_ms']:.1f} ms",
            "target ≤ 50 ms",
            _ok(paging["worst_stall_ms"] <= 50),
        ),
        (
            "  one cursor move + repaint, all rows loaded",
            f"{paging['moves_seconds'] * 1000:.1f} ms",
            "mean of 42",
            "",
        ),
        (f"(setup: bulk insert of {args.images:,} images)", f"{fill_seconds:.1f} s", "", ""),
    ]
    print(
        f"imgtui TUI benchmark · {os.cpu_count()} cores · Python {sys.version.split()[0]} · {args.runs} runs"
    )
    width = max(len(row[0]) for row in rows)
    for name, value, note, verdict in rows:
        print(f"{name:<{width}}  {value:>10}  {note:<16} {verdict}")
    return 0


def _ok(passed: bool) -> str:
    return "ok" if passed else "MISSED"


if __name__ == "__main__":
    sys.exit(main())
