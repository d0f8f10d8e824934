"""imgtui's preview in real terminal emulators on a virtual X display (issue 15).

    python benchmarks/real_terminals.py [--imgtui NAME=PATH ...] [--terminals xterm,kitty,...]
                                        [--presses 12] [--keep-shots DIR]

Needs Xvfb, xdotool and the terminals (Debian: xvfb xterm kitty mlterm foot weston tmux
xdotool) and a Pillow with XCB screen grabs; not part of the test suite (CI has no X).

For each imgtui (a venv's `imgtui`, e.g. one per Python or one per branch) and terminal:
start imgtui on a demo library in the terminal, wait for the first picture, then press `j`
N times and watch the preview panel by screen grabs (~20 ms apart). Prints a table:

- mode: what imgtui chose (its --debug log, `preview mode:`);
- press->picture median / p95: from the key sent (xdotool) to the first grab showing the
  picture that then stays (0.8 s unchanged). It includes imgtui's 120 ms debounce;
- blinks: presses where a picture was seen, then a blank panel, then a picture again;
- leaks: terminal replies Textual read as input before any key was sent (Textual's own
  debug key log, `TEXTUAL=debug`), which the app would take as typed keys;
- modal: the help screen hides the picture and closing it brings the same picture back;
- title (tmux rows): the pane title, which a bare kitty query would set.

foot is Wayland-only: it runs in weston's X11 backend, a window on the same X display, so
it is grabbed and typed into like the others.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import socket as socket_module
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageChops, ImageGrab, ImageStat

ROOT = Path(__file__).resolve().parents[1]
COLUMNS, ROWS = 160, 45
SCREEN = (1700, 1000)
SETTLE = 0.8  # seconds the panel must stay unchanged for a picture to count as final
PRESS_TIMEOUT = 5.0
START_TIMEOUT = 40.0
# The preview panel's picture, as fractions of the window (160x45 cells, the panel on the
# right above the details): the image's box without the panel title or the text below.
PANEL = (0.63, 0.06, 0.97, 0.42)
# weston's output for foot: 160x45 cells of foot's default font (7x16 px) under kiosk-shell.
FOOT_SIZE = (COLUMNS * 7, ROWS * 16)
# A probe reply as Textual's key log writes it (repr of the bytes read): DA1, XTVERSION,
# the kitty graphics reply, cell / window size reports.
REPLY = re.compile(r"\\x1b\[\?[\d;]*c|\\x1bP>\||\\x1b_G|\\x1b\[[468];\d+;\d+t")


# Every state change watch() sees, when --trace is given: (seconds, kind, grab).
TRACE: list[tuple[float, str, Image.Image]] | None = None


@dataclass
class Terminal:
    name: str
    wayland: bool = False
    tmux: bool = False


TERMINALS = {
    "xterm": Terminal("xterm"),
    "kitty": Terminal("kitty"),
    "mlterm": Terminal("mlterm"),
    "foot": Terminal("foot", wayland=True),
    "tmux-xterm": Terminal("xterm", tmux=True),
    "tmux-kitty": Terminal("kitty", tmux=True),
}


@dataclass
class Result:
    terminal: str
    imgtui: str
    python: str = "?"
    mode: str = "?"
    times: list[float] = field(default_factory=list)  # seconds
    missed: int = 0  # presses with no settled picture
    blinks: int = 0
    leaks: list[str] = field(default_factory=list)
    modal: str = "-"
    title: str = "-"
    note: str = ""


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)


@contextmanager
def x_display() -> Iterator[str]:
    """A fresh Xvfb on a free display number."""
    for number in range(80, 100):
        if not Path(f"/tmp/.X11-unix/X{number}").exists() and not Path(f"/tmp/.X{number}-lock").exists():
            break
    display = f":{number}"
    server = subprocess.Popen(
        ["Xvfb", display, "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not Path(f"/tmp/.X11-unix/X{number}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        yield display
    finally:
        server.terminate()
        server.wait(timeout=5)


def grab(display: str, box: tuple[int, int, int, int]) -> Image.Image:
    return ImageGrab.grab(bbox=box, xdisplay=display).convert("RGB")


def small(image: Image.Image) -> Image.Image:
    return image.resize((192, 96), Image.Resampling.BILINEAR)


def differs(a: Image.Image, b: Image.Image) -> bool:
    """More than 0.3 % of the (downscaled) pixels changed visibly: a few pixels of Sixel
    dithering or scaling noise between two paints of one picture are not a change."""
    changed = ImageChops.difference(a, b).convert("L").point(lambda value: 255 if value > 24 else 0)
    return changed.histogram()[255] > 0.003 * a.width * a.height


def is_blank(image: Image.Image) -> bool:
    return max(ImageStat.Stat(image).stddev) < 6


def window_box(display: str, pid: int) -> tuple[int, int, int, int] | None:
    env = {**os.environ, "DISPLAY": display}
    found = run(["xdotool", "search", "--onlyvisible", "--pid", str(pid)], env=env).stdout.split()
    for window in found:
        geometry = run(["xdotool", "getwindowgeometry", "--shell", window], env=env).stdout
        values = dict(line.split("=", 1) for line in geometry.split())
        x, y, w, h = (int(values[k]) for k in ("X", "Y", "WIDTH", "HEIGHT"))
        if w > 200 and h > 200:
            return x, y, x + w, y + h
    return None


def top_level_box(display: str) -> tuple[int, int, int, int] | None:
    """The first top-level window of the display (weston's, which sets no _NET_WM_PID)."""
    listing = run(["xwininfo", "-root", "-children"], env={**os.environ, "DISPLAY": display}).stdout
    found = re.search(r"\)\s+(\d+)x(\d+)\+(-?\d+)\+(-?\d+)", listing)
    if found is None:
        return None
    w, h, x, y = (int(value) for value in found.groups())
    return x, y, x + w, y + h


def panel_box(window: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = window
    w, h = x1 - x0, y1 - y0
    return (x0 + int(PANEL[0] * w), y0 + int(PANEL[1] * h), x0 + int(PANEL[2] * w), y0 + int(PANEL[3] * h))


def key(display: str, name: str) -> float:
    """Send one key to the focused window; returns when it was sent (monotonic)."""
    sent = time.monotonic()
    run(["xdotool", "key", name], env={**os.environ, "DISPLAY": display})
    return sent


def watch(
    display: str, box: tuple[int, int, int, int], since: Image.Image | None, *, start: float | None = None
) -> tuple[float | None, bool, Image.Image]:
    """Grab the panel until it settles on a picture different from `since`: (seconds from
    `start` (the key sent; default now) to the first grab of that settled state, or None;
    whether it blinked; the final grab)."""
    start = time.monotonic() if start is None else start
    previous = since
    first_of_state = start
    states: list[Image.Image] = []  # every state seen, in order
    while True:
        now = time.monotonic()
        shot = small(grab(display, box))
        if previous is None or differs(shot, previous):
            first_of_state = now
            states.append(shot)
            if TRACE is not None:
                TRACE.append((now - start, "blank" if is_blank(shot) else "picture", shot))
            previous = shot
        elif now - first_of_state >= SETTLE and (since is None or differs(shot, since)):
            if is_blank(shot):
                return None, False, shot
            return first_of_state - start, blinked(states, shot), shot
        if now - start > PRESS_TIMEOUT:
            return None, blinked(states, shot), shot


def blinked(states: list[Image.Image], final: Image.Image) -> bool:
    """The final picture was on screen, then a blank panel, then the picture again. (A
    grab of the old picture half erased, or of the new one half drawn, is no blink.)"""
    shown = False
    blank_after_shown = False
    for state in states[:-1]:
        if is_blank(state):
            blank_after_shown = shown
        elif not differs(state, final):
            if blank_after_shown:
                return True
            shown = True
    return blank_after_shown  # and the last state is the final picture


def imgtui_python(imgtui: Path) -> str:
    found = run(
        [
            str(imgtui.parent / "python"),
            "-c",
            "import sys, importlib.metadata as m; print(sys.version.split()[0], m.version('textual-image'))",
        ]
    )
    return found.stdout.strip().replace(" ", "/ti ") or "?"


def terminal_command(
    term: Terminal, inner: str, runtime: Path, display: str
) -> tuple[list[str], dict[str, str]]:
    env = {**os.environ, "DISPLAY": display}
    if term.tmux:
        conf = runtime / "tmux.conf"
        conf.write_text("set -g status off\n")
        inner = shlex.join(["tmux", "-S", str(runtime / "tmux.sock"), "-f", str(conf), "new-session", inner])
    if term.name == "xterm":
        return [
            "xterm",
            "-ti",
            "vt340",
            "-geometry",
            f"{COLUMNS}x{ROWS}+0+0",
            "-fa",
            "DejaVu Sans Mono",
            "-fs",
            "10",
            "-e",
            "sh",
            "-c",
            inner,
        ], env
    if term.name == "kitty":
        options = [
            "-o",
            "remember_window_size=no",
            "-o",
            f"initial_window_width={COLUMNS}c",
            "-o",
            f"initial_window_height={ROWS}c",
            "-o",
            "font_size=10",
        ]
        return ["kitty", *options, "sh", "-c", inner], env
    if term.name == "mlterm":
        return ["mlterm", "-g", f"{COLUMNS}x{ROWS}+0+0", "-e", "sh", "-c", inner], env
    if term.name == "foot":
        env.update(WAYLAND_DISPLAY="h3-bench-wayland", XDG_RUNTIME_DIR=str(runtime))
        return ["foot", f"--window-size-chars={COLUMNS}x{ROWS}", "sh", "-c", inner], env
    raise ValueError(term.name)


@contextmanager
def compositor(term: Terminal, runtime: Path, display: str) -> Iterator[subprocess.Popen | None]:
    if not term.wayland:
        yield None
        return
    runtime.chmod(0o700)
    env = {**os.environ, "DISPLAY": display, "XDG_RUNTIME_DIR": str(runtime)}
    weston = subprocess.Popen(
        [
            "weston",
            "--backend=x11-backend.so",
            "--shell=kiosk-shell.so",  # the terminal fills the output: its window is weston's
            f"--width={FOOT_SIZE[0]}",
            f"--height={FOOT_SIZE[1]}",
            "--socket=h3-bench-wayland",
            "--idle-time=0",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not (runtime / "h3-bench-wayland").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        yield weston
    finally:
        weston.terminate()
        with suppress(subprocess.TimeoutExpired):
            weston.wait(timeout=5)


def measure(
    name: str, imgtui: Path, terminal: str, library: Path, display: str, presses: int, shots: Path | None
) -> Result:
    term = TERMINALS[terminal]
    result = Result(terminal, name, python=imgtui_python(imgtui))
    with tempfile.TemporaryDirectory(prefix="h3-bench-") as folder:
        runtime = Path(folder)
        debug_log = runtime / "imgtui-debug.log"
        inner = (
            f"cd {shlex.quote(str(runtime))} && IMGTUI_CONFIG_DIR={shlex.quote(str(runtime / 'config'))} TEXTUAL=debug "
            f"exec {shlex.quote(str(imgtui))} --library {shlex.quote(str(library))} --debug {shlex.quote(str(debug_log))}"
        )
        with compositor(term, runtime, display) as weston:
            command, env = terminal_command(term, inner, runtime, display)
            process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                window = None
                deadline = time.monotonic() + 30
                while window is None and time.monotonic() < deadline:
                    window = top_level_box(display) if weston else window_box(display, process.pid)
                    time.sleep(0.1)
                if window is None:
                    result.note = "no window"
                    return result
                if term.wayland:  # weston's window: click it so foot has the keyboard
                    run(
                        ["xdotool", "mousemove", str(window[0] + 400), str(window[1] + 300), "click", "1"],
                        env=env,
                    )
                box = panel_box(window)
                seconds, _, last = watch(display, box, None)
                started = time.monotonic() + START_TIMEOUT
                while seconds is None and time.monotonic() < started:
                    seconds, _, last = watch(display, box, None)
                if seconds is None:
                    result.note = "no first picture"
                result.mode = read_mode(debug_log)
                result.leaks = read_leaks(runtime / "keys.log")
                if term.tmux:
                    result.title = tmux_title(runtime / "tmux.sock")
                if shots is not None:
                    save_screen(display, shots / f"{name}-{terminal}-start.png")
                # The demo's second row is an SVG (a message, no picture): start below it.
                for _ in range(2):
                    key(display, "j")
                    seconds, _, shot = watch(display, box, last)
                    last = shot if seconds is not None else last
                for press in range(presses):
                    if TRACE is not None:
                        TRACE.clear()
                    sent = key(display, "j")
                    seconds, blinked, shot = watch(display, box, last, start=sent)
                    if TRACE is not None:
                        trace(TRACE, shots, f"{name}-{terminal}-press{press}", blinked)
                    if seconds is None:
                        result.missed += 1
                    else:
                        result.times.append(seconds)
                    result.blinks += blinked
                    last = shot if not is_blank(shot) else last
                    if shots is not None and press == 0:
                        save_screen(display, shots / f"{name}-{terminal}-after-j.png")
                result.modal = modal_check(display, box, last, shots, f"{name}-{terminal}")
                if term.tmux:
                    result.title = tmux_title(runtime / "tmux.sock")
                key(display, "q")
                with suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=5)
            finally:
                if process.poll() is None:
                    process.terminate()
                    with suppress(subprocess.TimeoutExpired):
                        process.wait(timeout=5)
                if term.tmux:
                    run(["tmux", "-S", str(runtime / "tmux.sock"), "kill-server"])
    return result


def trace(states: list[tuple[float, str, Image.Image]], shots: Path | None, stem: str, blinked: bool) -> None:
    print(
        f"{stem}: "
        + ", ".join(f"{at * 1000:.0f} ms {kind}" for at, kind, _ in states)
        + (" BLINK" if blinked else ""),
        file=sys.stderr,
    )
    if blinked and shots is not None:
        for index, (_, _, shot) in enumerate(states):
            shot.save(shots / f"{stem}-{index}.png")


def modal_check(
    display: str, box: tuple[int, int, int, int], picture: Image.Image, shots: Path | None, stem: str
) -> str:
    key(display, "question")
    time.sleep(1.0)
    under = small(grab(display, box))
    if shots is not None:
        save_screen(display, shots / f"{stem}-help.png")
    key(display, "Escape")
    time.sleep(1.2)
    back = small(grab(display, box))
    if shots is not None:
        save_screen(display, shots / f"{stem}-help-closed.png")
    hidden = differs(under, picture)
    restored = not differs(back, picture)
    return f"{'hidden' if hidden else 'SHOWN'}/{'back' if restored else 'LOST'}"


def save_screen(display: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    ImageGrab.grab(xdisplay=display).save(path)


def read_mode(debug_log: Path) -> str:
    with suppress(OSError):
        for line in debug_log.read_text(errors="replace").splitlines():
            if "preview mode:" in line:
                return line.rsplit("preview mode:", 1)[1].strip()
    return "?"


def read_leaks(keys_log: Path) -> list[str]:
    """Probe replies Textual's input parser was fed (it would read them as keys)."""
    with suppress(OSError):
        return REPLY.findall(keys_log.read_text(errors="replace"))
    return []


def tmux_title(socket: Path) -> str:
    """The pane title; tmux's default is the host name."""
    title = run(["tmux", "-S", str(socket), "display", "-p", "#{pane_title}"]).stdout.strip()
    return "host name (default)" if title == socket_module.gethostname() else repr(title)


def fill_library(imgtui: Path, library: Path) -> None:
    script = (
        "import asyncio, sys\n"
        "from imgtui.service import Images\n"
        "from imgtui.workflows.demo import fill_demo_library\n"
        "asyncio.run(fill_demo_library(Images.local(sys.argv[1])))\n"
    )
    done = run([str(imgtui.parent / "python"), "-c", script, str(library)])
    if done.returncode != 0:
        raise SystemExit(f"could not fill the demo library: {done.stderr}")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def table(results: list[Result]) -> str:
    head = (
        "imgtui",
        "terminal",
        "python / textual-image",
        "mode",
        "press->picture median",
        "p95",
        "missed",
        "blinks",
        "leaks",
        "modal",
        "tmux title",
    )
    rows = [head]
    for r in results:
        median = f"{statistics.median(r.times) * 1000:.0f} ms" if r.times else "-"
        p95 = f"{percentile(r.times, 0.95) * 1000:.0f} ms" if r.times else "-"
        leaks = str(len(r.leaks)) + (f" {r.leaks[:2]}" if r.leaks else "")
        rows.append(
            (
                r.imgtui,
                r.terminal,
                r.python,
                r.mode + (f" ({r.note})" if r.note else ""),
                median,
                p95,
                str(r.missed),
                str(r.blinks),
                leaks,
                r.modal,
                r.title,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["| " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) + " |" for row in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--imgtui",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="an imgtui executable to try (repeatable; default: this checkout's .venv)",
    )
    parser.add_argument(
        "--terminals", default=",".join(TERMINALS), help="comma-separated: " + ", ".join(TERMINALS)
    )
    parser.add_argument("--presses", type=int, default=12)
    parser.add_argument(
        "--keep-shots",
        type=Path,
        default=None,
        metavar="DIR",
        help="save screenshots (start, after a press, help open) here",
    )
    parser.add_argument(
        "--trace", action="store_true", help="print every state change of the panel per press"
    )
    args = parser.parse_args()
    if args.trace:
        global TRACE
        TRACE = []
    executables = [tuple(spec.split("=", 1)) for spec in args.imgtui] or [
        ("this", str(ROOT / ".venv" / "bin" / "imgtui"))
    ]
    missing = [tool for tool in ("Xvfb", "xdotool") if shutil.which(tool) is None]
    if missing:
        print(f"needs {', '.join(missing)}", file=sys.stderr)
        return 2
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="h3-bench-lib-") as folder, x_display() as display:
        library = Path(folder) / "library"
        fill_library(Path(executables[0][1]), library)
        for terminal in args.terminals.split(","):
            if shutil.which(TERMINALS[terminal].name) is None:
                print(f"skipping {terminal}: not installed", file=sys.stderr)
                continue
            for name, path in executables:
                result = measure(name, Path(path), terminal, library, display, args.presses, args.keep_shots)
                print(
                    f"{terminal} {name}: {result.mode} {len(result.times)} presses",
                    file=sys.stderr,
                    flush=True,
                )
                results.append(result)
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
