"""How fast the browser starts and pages: a table, not a timed test.

    .venv/bin/python benchmarks/bench_tui.py [--images 100000] [--first-images 2000] [--runs 9]

1. Launch to first page painted: `imgtui --library PATH` through the real entry point
   (imgtui.cli.main, default preview "auto"), timed from before the process is spawned to
   the first frame that shows rows, against an empty Textual app (Header + Footer) and a
   bare `App()` timed the same way. Launches are interleaved, medians reported, the load
   average printed (other work on the machine shifts every figure; compare ratios).
   Target: within 1.5x of the empty app. Then the import-time breakdown of one launch.
2. Paging through every image of a large local library with `G` (last row, which asks for
   the next page), headless with `App.run_test`: wall time, peak RSS of the process (target:
   under 300 MB at 100k), and the longest event-loop stall seen by a probe task (target:
   never over 50 ms).

Each measurement runs in a fresh child process, so peak RSS and import caches are its own.
Headless means no terminal: Textual skips encoding the frame for a terminal (for both
apps), and textual-image skips its terminal probe (stdout is a pipe).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from library_fill import fill_library
from loop_probe import LoopLagProbe, import_like_the_cli, peak_rss_mb, poll_until
from loop_probe import ok_or_missed as _ok

# ----------------------------------------------------------------------------- launch

# Launch children run through `python -c` so they pay what a real launch pays and nothing
# more: interpreter start, every import, the app's start-up, up to the first frame. The
# frame probe patches Screen._compositor_refresh (where Textual draws a frame) the same way
# for both apps, and App.run is made headless at the same size (no terminal to answer
# textual-image's probe; with stdout a pipe it skips it, as it does in a real pipe).
# Times are CLOCK_MONOTONIC, which the parent and the child share, so the origin is the
# moment before the parent spawned the process.
LAUNCH_PROBE = """
import json, sys, time

marks = {}
cpu = {}
ready = READY
FRAME_MARK = "FRAME_MARK"


def install(App):
    from textual._wait import wait_for_idle
    from textual.screen import Screen

    original_refresh = Screen._compositor_refresh
    original_run = App.run

    def refresh(screen):
        original_refresh(screen)
        marks.setdefault("any_frame", time.monotonic())  # the first frame, rows or not
        if "frame" not in marks and ready(screen.app):
            marks["frame"] = time.monotonic()
            cpu["frame"] = time.process_time()  # CPU seconds of this process (all threads)
            sys.stderr.write(FRAME_MARK + "\\n")  # -X importtime: what came before the page

            async def settle():
                await wait_for_idle(0)  # the rest of start-up (details, preview, timers)
                marks["idle"] = time.monotonic()
                screen.app.exit()

            screen.app.run_worker(settle())

    def run(self, **options):
        marks["run"] = time.monotonic()  # imports and set-up are done
        return original_run(self, headless=True, size=(150, 42))

    Screen._compositor_refresh = refresh
    App.run = run


class PatchOnImport:
    # Patches a module as it is first imported, so the probe imports nothing before the app's
    # own code does (which, for imgtui, runs with the cyclic GC off).
    def __init__(self, target, patch):
        self.target, self.patch = target, patch

    def find_spec(self, name, path=None, target=None):
        if name != self.target:
            return None
        sys.meta_path.remove(self)
        import importlib.util

        spec = importlib.util.find_spec(name)
        load = spec.loader.exec_module

        def exec_module(module):
            load(module)
            self.patch(module)

        spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, PatchOnImport("textual.app", lambda module: install(module.App)))
"""

EMPTY_APP = """
from textual.app import App
from textual.widgets import Footer, Header

class Empty(App):
    def compose(self):
        yield Header()
        yield Footer()

Empty().run()
"""

BARE_APP = """
from textual.app import App
App().run()
"""

# The real entry point, as `imgtui --library PATH` runs it (default preview: auto).
IMGTUI_APP = """
# The probe runs the app headless (no terminal on either end), so the TUI's "needs a
# terminal" check is switched off as imgtui.ui.cli is first imported, in its usual order.
def no_terminal_check(module):
    module.terminal_problem = lambda *args: None


sys.meta_path.insert(0, PatchOnImport("imgtui.ui.cli", no_terminal_check))
from imgtui.cli import main
main(["--library", sys.argv[1]])
"""

ANY_FRAME = "lambda app: True"
PAGE_ON_SCREEN = """lambda app: (
    bool(tables := app.screen.query("#images"))
    and tables.first().row_count > 0
    and bool(tables.first().render_line(1).text.strip())
)"""

LAUNCHES = {
    "bare": (ANY_FRAME, BARE_APP),
    "empty": (ANY_FRAME, EMPTY_APP),
    "imgtui": (PAGE_ON_SCREEN, IMGTUI_APP),
}


def launch_code(kind: str) -> str:
    ready, body = LAUNCHES[kind]
    return (
        LAUNCH_PROBE.replace("READY", ready).replace('"FRAME_MARK"', repr(FRAME_MARK))
        + body
        + "\nprint(json.dumps({**marks, 'cpu': cpu}))\n"
    )


def run_launch(
    kind: str,
    *args: str,
    config_dir: str,
    pycache: str,
    importtime: bool = False,
    source: str | None = None,
) -> dict:
    """Spawn one launch; seconds from before the spawn to the first page frame and to idle.
    `pycache`: this run's bytecode cache. `source`: another checkout's imgtui (PYTHONPATH),
    e.g. main's, for a before/after."""
    env = dict(os.environ, IMGTUI_CONFIG_DIR=config_dir)  # no user settings file
    if source is not None:
        env["PYTHONPATH"] = source
    # Bytecode as an installed imgtui has it (pip compiles a wheel's modules): written by
    # round 0 into a cache of this run (PYTHONPYCACHEPREFIX, so no checkout gets __pycache__
    # folders), read by every later launch. With PYTHONDONTWRITEBYTECODE set (some sandboxes
    # set it) every launch compiled all of imgtui from source, ~40 ms that site-packages'
    # Textual never paid. https://docs.python.org/3/using/cmdline.html#envvar-PYTHONPYCACHEPREFIX
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = pycache
    # -P: `python -c` would put the current folder first on sys.path, so run from a checkout
    # the baseline would import that checkout's imgtui instead of the one on PYTHONPATH.
    flags = ["-P", *(["-X", "importtime"] if importtime else [])]
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, *flags, "-c", launch_code(kind), *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    if done.returncode != 0:
        raise SystemExit(f"{kind} launch failed:\n{done.stderr[-3000:]}")
    marks = json.loads(done.stdout.strip().splitlines()[-1])
    cpu = marks.pop("cpu")
    result = {name: at - started for name, at in marks.items()}
    result["frame_cpu"] = cpu["frame"]
    if importtime:
        result["importtime"] = done.stderr
    return result


FRAME_MARK = "imgtui-bench: first page frame"


def import_breakdown(report: str) -> dict[str, float]:
    """Self import time (ms) summed per top-level package (our own modules one level finer),
    up to the first page frame: what is imported later (at idle, on first use) is not in it."""
    totals: dict[str, float] = {}
    for line in report.splitlines():
        if line == FRAME_MARK:
            break
        parts = line.removeprefix("import time:").split("|")
        if len(parts) != 3 or not parts[0].strip().isdigit():
            continue
        name = parts[2].strip()
        root = name.split(".")[0]
        if root == "imgtui":
            root = ".".join(name.split(".")[:3])  # our own modules, one level finer
        totals[root] = totals.get(root, 0.0) + int(parts[0]) / 1000
    return totals


def import_medians(reports: list[str]) -> dict[str, float]:
    runs = [import_breakdown(report) for report in reports]
    names = set().union(*runs)
    return {name: statistics.median(run.get(name, 0.0) for run in runs) for name in names}


# ----------------------------------------------------------------------------- children


async def child_page_all(library: str) -> dict:
    Images, ImgTuiApp, UiConfig = import_like_the_cli()

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


QUIET_S = 0.25  # past the details panel's debounce (0.12 s) and its load
SAME_MOVE_S = 0.08  # frames within this of a move are its own (before the debounce fires)
KEY_REPEAT_S = 1 / 30  # a held key: about 30 repeats a second


class FrameProbe:
    """When each frame was drawn, and how many bytes it would send: App._display is where
    Textual hands a frame to the driver; headless, Textual skips encoding it for a terminal,
    so the probe encodes it (render_segments) as a real terminal's frame would be."""

    def __init__(self, app) -> None:
        from textual._compositor import CompositorUpdate

        self.frames: list[tuple[float, int]] = []
        self._drawn = asyncio.Event()
        self._app = app
        original = app._display

        def display(screen, renderable) -> None:
            original(screen, renderable)
            if isinstance(renderable, CompositorUpdate):
                sent = renderable.render_segments(app.console)
                self.frames.append((time.perf_counter(), len(sent)))
                self._drawn.set()

        app._display = display

    async def next_after(self, began: float) -> float:
        """The first frame drawn at or after `began`."""
        while True:
            after = [at for at, _ in self.frames if at >= began]
            if after:
                return after[0]
            self._drawn.clear()
            await asyncio.wait_for(self._drawn.wait(), 5)

    def last_before(self, until: float) -> float:
        return max(at for at, _ in self.frames if at <= until)

    def cells_between(self, began: float, until: float) -> int:
        return sum(size for at, size in self.frames if began <= at <= until)

    def close(self) -> None:
        del self._app._display  # the class's method again


def _median_p95(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[max(0, int(len(ordered) * 0.95 + 0.5) - 1)] * 1000


async def child_catalogue(library: str, oldest: str) -> dict:
    """The TUI over a library whose catalogue is built (IMGTUI_CACHE_DIR): what a second
    launch of a million-image library costs. Headless, one process; peak RSS is its own."""
    started = time.perf_counter()
    Images, ImgTuiApp, UiConfig = import_like_the_cli()

    app = ImgTuiApp(Images.local(library), preview_mode="off", config=UiConfig())
    out: dict = {}
    async with app.run_test(size=(150, 42)) as pilot:
        table = app.screen.query_one("#images")
        await poll_until(lambda: table.row_count > 0 and table.current_image is not None)
        out["first_rows_s"] = time.perf_counter() - started
        # The first screen may come with a capped count ("10,000+"): G is timed from the
        # list as its first reload left it, every row counted.
        await poll_until(lambda: table.reloads > 0 and table.rows.total_exact)
        out["counted_s"] = time.perf_counter() - started
        out["rows"] = table.row_count
        with LoopLagProbe() as probe:
            # G: the last image highlighted and its row painted.
            began = time.perf_counter()
            await pilot.press("G")
            await poll_until(lambda: table.current_image is not None and table.current_image.id == oldest)
            await pilot.pause()
            out["G_s"] = time.perf_counter() - began
            stalls = {"G": probe.worst}
            probe.worst = 0.0
            moves_actions = (
                [table.action_first] + [table.action_cursor_down] * 40 + [table.action_page_down] * 10
            )
            # As measured before: an action, then Pilot.pause() (which sleeps at least 20 ms
            # in textual._wait.wait_for_idle, so it can never report under 20 ms).
            moves = []
            for action in moves_actions:
                began = time.perf_counter()
                action()
                await pilot.pause()
                moves.append(time.perf_counter() - began)
            out["move_pause_ms"] = _median_p95(moves)
            stalls["moves"], probe.worst = probe.worst, 0.0
            frames = FrameProbe(app)
            # A cursor move to the frame that shows it, each from a quiet screen (the details
            # panel's debounced load done): a single key press.
            single, settled, cells = [], [], []
            for action in moves_actions:
                await asyncio.sleep(QUIET_S)
                began = time.perf_counter()
                action()
                first = await frames.next_after(began)
                await asyncio.sleep(SAME_MOVE_S)  # later frames of the same move (no debounced load yet)
                single.append(first - began)
                settled.append(frames.last_before(began + SAME_MOVE_S) - began)
                cells.append(frames.cells_between(began, began + SAME_MOVE_S))
            out["move_ms"] = _median_p95(single)
            out["move_settled_ms"] = _median_p95(settled)
            out["move_bytes"] = statistics.median(cells)
            # A held key (repeat every KEY_REPEAT_S): each move to its frame, and what the
            # loop lags behind meanwhile.
            await asyncio.sleep(QUIET_S)
            held = []
            for _ in range(60):
                began = time.perf_counter()
                table.action_cursor_down()
                held.append(await frames.next_after(began) - began)
                await asyncio.sleep(max(0.0, KEY_REPEAT_S - (time.perf_counter() - began)))
            out["held_ms"] = _median_p95(held)
            await asyncio.sleep(QUIET_S)
            stalls["frames"], probe.worst = probe.worst, 0.0
            frames.close()
            # Search keystrokes over the whole catalogue: typed, to the updated rows and count.
            await pilot.press("slash")
            await pilot.pause(0.3)
            field = app.screen.query_one("#quick-filter")
            keys = []
            for char in "bench/0004242":
                done = table.reloads
                began = time.perf_counter()
                # What a key press does to the field (Pilot.press adds its own waits, ~100 ms).
                field.insert_text_at_cursor(char)
                await poll_until(lambda d=done: table.reloads > d)  # rows and count are shown
                keys.append(time.perf_counter() - began)
                await pilot.pause()
            out["search_ms"] = _median_p95(keys)
            out["search_matches"] = table.row_count
            stalls["search"] = probe.worst
            out["worst_stall_ms"] = max(stalls.values()) * 1000
            out["stalls"] = ", ".join(f"{name} {ms * 1000:.0f}" for name, ms in stalls.items())
        out["cached_rows"] = table.rows.cached_rows
    out["peak_rss_mb"] = peak_rss_mb()
    return out


CHILDREN = {"all": child_page_all, "catalogue": child_catalogue}


def run_child(kind: str, *args: str, env: dict[str, str] | None = None) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, *args],
        check=True,
        capture_output=True,
        text=True,
        env=dict(os.environ, **(env or {})),
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- setup


async def build_catalogue(library: Path, cache: Path) -> tuple[float, str]:
    """The catalogue a first launch would build, walked ahead (pages of 10,000, no file
    facts: the benchmark times the second launch). Returns seconds and the last row's id."""
    from imgtui.catalogue import CatalogueStore, CatalogueWalker, CatalogueWindow, catalogue_path
    from imgtui.service import Images

    started = time.perf_counter()
    async with Images.local(library) as images:
        store = CatalogueStore(catalogue_path(images.cache_key, cache))
        try:
            async for _ in CatalogueWalker(images, store, page_size=10_000).walk():
                pass
            window = CatalogueWindow(store)
            total = await window.set_view()
            oldest = (await window.rows(total - 1, 1))[0].id
        finally:
            await store.aclose()
    return time.perf_counter() - started, oldest


def catalogue_child(count: int, where: Path) -> dict:
    """The catalogue child over `count` images kept in `where` (built there once: filling and
    walking a million images takes minutes; a `built.json` there says it finished)."""
    huge = where / f"huge-{count}"
    cache = where / f"huge-{count}-cache"
    done = where / f"huge-{count}-built.json"
    if done.exists():
        built = json.loads(done.read_text())
    else:
        where.mkdir(parents=True, exist_ok=True)
        asyncio.run(fill_library(huge, count, tiny_png(), digits=7))
        build_s, oldest = asyncio.run(build_catalogue(huge, cache))
        built = {"build_s": build_s, "oldest": oldest}
        done.write_text(json.dumps(built))
    catalogue = run_child("catalogue", str(huge), built["oldest"], env={"IMGTUI_CACHE_DIR": str(cache)})
    catalogue["build_s"] = built["build_s"]
    return catalogue


def tiny_png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (30, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=100_000, help="library to page through")
    parser.add_argument("--first-images", type=int, default=2_000, help="library for the launch")
    parser.add_argument("--runs", type=int, default=9, help="launches of each app")
    parser.add_argument("--top-imports", type=int, default=16)
    parser.add_argument(
        "--catalogue-images",
        type=int,
        default=0,
        help="also time the TUI over a built catalogue of this many images (e.g. 1000000)",
    )
    parser.add_argument("--skip-paging", action="store_true", help="skip the G-through-every-page child")
    parser.add_argument(
        "--cache",
        metavar="DIR",
        type=Path,
        help="keep the --catalogue-images library and its catalogue in DIR across runs (built once; "
        "delete DIR to rebuild)",
    )
    parser.add_argument(
        "--baseline",
        metavar="SRC",
        help="also launch the imgtui of another checkout (its source folder, put on PYTHONPATH), "
        "interleaved with these launches: a before/after under the same load",
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        print(json.dumps(asyncio.run(CHILDREN[kind](*rest))))
        return 0

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="imgtui-bench-") as tmp:
        small = Path(tmp) / "small"
        large = Path(tmp) / "large"
        asyncio.run(fill_library(small, args.first_images, tiny_png()))
        fill_seconds = asyncio.run(fill_library(large, args.images, tiny_png()))
        launch: dict[str, list[dict]] = {"bare": [], "empty": [], "imgtui": []}
        options = {"bare": (), "empty": (), "imgtui": (str(small),)}
        pycache = str(Path(tmp) / "pycache")  # round 0 fills it, as an install would have
        if args.baseline:
            launch["baseline"] = []
        for round_ in range(args.runs + 1):  # round 0 warms the page cache and .pyc files
            for kind, runs in launch.items():  # interleaved, so load changes hit all alike
                if kind == "baseline":  # its own config (and catalogue) directory
                    where = str(Path(tmp) / "baseline")
                    result = run_launch(
                        "imgtui", *options["imgtui"], config_dir=where, pycache=pycache, source=args.baseline
                    )
                else:
                    result = run_launch(kind, *options[kind], config_dir=tmp, pycache=pycache)
                if round_:
                    runs.append(result)
        imports = {  # three traced launches each; per package, the median
            kind: [
                run_launch(kind, *options[kind], config_dir=tmp, pycache=pycache, importtime=True)[
                    "importtime"
                ]
                for _ in range(3)
            ]
            for kind in ("empty", "imgtui")
        }
        paging = None if args.skip_paging else run_child("all", str(large))
        catalogue = None
        if args.catalogue_images:
            catalogue = catalogue_child(args.catalogue_images, args.cache or Path(tmp))
    load_after = os.getloadavg()[0]

    def median_ms(kind: str, mark: str) -> float:
        return statistics.median(run[mark] for run in launch[kind]) * 1000

    def cpu_ms(kind: str) -> float:
        return median_ms(kind, "frame_cpu")

    bare_ms, empty_ms, first_ms = (median_ms(kind, "frame") for kind in ("bare", "empty", "imgtui"))
    spread = [run["frame"] * 1000 for run in launch["imgtui"]]
    ratio = first_ms / empty_ms
    rows = [
        ("bare App(): process start to first frame", f"{bare_ms:.0f} ms", "median", ""),
        ("empty app (Header, Footer): to first frame", f"{empty_ms:.0f} ms", "median", ""),
        (
            f"imgtui --library ({args.first_images:,} images): first page",
            f"{first_ms:.0f} ms",
            f"median (min {min(spread):.0f}, max {max(spread):.0f})",
            "",
        ),
        ("  ratio to the empty app", f"{ratio:.2f}x", "target ≤ 1.5x", _ok(ratio <= 1.5)),
        (
            "  CPU time to that frame: empty / imgtui",
            f"{cpu_ms('empty'):.0f}/{cpu_ms('imgtui'):.0f} ms",
            f"ratio {cpu_ms('imgtui') / cpu_ms('empty'):.2f}x",
            "(steadier than wall time on a shared machine)",
        ),
        (
            "  its first frame of any screen (rows or not)",
            f"{median_ms('imgtui', 'any_frame'):.0f} ms",
            "median",
            "",
        ),
    ]
    if args.baseline:
        baseline_ms = median_ms("baseline", "frame")
        rows += [
            (
                "  --baseline checkout, same rounds: first page",
                f"{baseline_ms:.0f} ms",
                f"ratio {baseline_ms / empty_ms:.2f}x",
                "",
            ),
            (
                "    its CPU time to that frame",
                f"{cpu_ms('baseline'):.0f} ms",
                f"ratio {cpu_ms('baseline') / cpu_ms('empty'):.2f}x",
                "",
            ),
        ]
    rows += [
        (
            "  until idle: empty / imgtui",
            f"{median_ms('empty', 'idle'):.0f}/{median_ms('imgtui', 'idle'):.0f} ms",
            "median",
            "",
        ),
    ]
    if paging is not None:
        rows += [
            (
                f"page through {paging['rows']:,} images (G)",
                f"{paging['seconds']:.2f} s",
                f"{paging['presses']} press{'es' if paging['presses'] != 1 else ''} of G",
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
    if catalogue is not None:
        n = f"{catalogue['rows']:,}"
        move, search = catalogue["move_ms"], catalogue["search_ms"]
        rows += [
            (
                f"catalogue of {n}: launch to first rows (in process)",
                f"{catalogue['first_rows_s'] * 1000:.0f} ms",
                f"counted: {catalogue['counted_s'] * 1000:.0f} ms",
                "",
            ),
            (
                "  G to the last image, painted",
                f"{catalogue['G_s'] * 1000:.0f} ms",
                "target < 1 s",
                _ok(catalogue["G_s"] < 1),
            ),
            (
                "  cursor move to its frame (one key)",
                f"{move[0]:.1f} ms",
                f"median, p95 {move[1]:.1f}",
                _ok(move[0] <= 16),
            ),
            (
                "    to the move's last frame",
                f"{catalogue['move_settled_ms'][0]:.1f} ms",
                f"median, p95 {catalogue['move_settled_ms'][1]:.1f}",
                "",
            ),
            ("    bytes sent per move", f"{catalogue['move_bytes']:,.0f}", "median", ""),
            (
                "    held key (30/s): move to frame",
                f"{catalogue['held_ms'][0]:.1f} ms",
                f"median, p95 {catalogue['held_ms'][1]:.1f}",
                "",
            ),
            (
                "    as before: action + Pilot.pause()",
                f"{catalogue['move_pause_ms'][0]:.1f} ms",
                f"median, p95 {catalogue['move_pause_ms'][1]:.1f}",
                "(pause sleeps >= 20 ms)",
            ),
            (
                "  search keystroke to rows + count",
                f"{search[0]:.1f} ms",
                f"median, p95 {search[1]:.1f}",
                _ok(search[0] <= 50 and search[1] <= 100),
            ),
            (
                "  longest event-loop stall",
                f"{catalogue['worst_stall_ms']:.1f} ms",
                "target ≤ 50 ms",
                _ok(catalogue["worst_stall_ms"] <= 50),
            ),
            ("    worst stall by phase (ms)", catalogue["stalls"], "", ""),
            (
                "  peak RSS",
                f"{catalogue['peak_rss_mb']:.0f} MB",
                "target ≤ 400 MB",
                _ok(catalogue["peak_rss_mb"] <= 400),
            ),
            ("  rows held by the list", f"{catalogue['cached_rows']:,}", "", ""),
            (f"(setup: walk {n} into the catalogue)", f"{catalogue['build_s']:.1f} s", "", ""),
        ]
    print(
        f"imgtui TUI benchmark · {os.cpu_count()} cores · Python {sys.version.split()[0]} · "
        f"{args.runs} interleaved launches each · load average {load_before:.2f} -> {load_after:.2f}"
    )
    width = max(len(row[0]) for row in rows)
    for name, value, note, verdict in rows:
        print(f"{name:<{width}}  {value:>10}  {note:<16} {verdict}")
    print(
        "\nSelf import time by package up to the first page frame (-X importtime, median of 3"
        " launches; ms, inflated by tracing):"
    )
    imgtui_imports = import_medians(imports["imgtui"])
    empty_imports = import_medians(imports["empty"])
    print(f"  {'package':<36} {'imgtui':>7} {'empty':>7}")
    for name, ms in sorted(imgtui_imports.items(), key=lambda item: -item[1])[: args.top_imports]:
        print(f"  {name:<36} {ms:7.1f} {empty_imports.get(name, 0.0):7.1f}")
    print(f"  {'(all imports)':<36} {sum(imgtui_imports.values()):7.1f} {sum(empty_imports.values()):7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
