"""SVG to pixels for previews and thumbnails, with nothing trusted in the file (blocking).

The renderer is resvg (through the resvg-py wheel: abi3 wheels for Linux x86_64/aarch64,
macOS and Windows, no system libraries). resvg runs no scripts and has no network code, but
it does read files an `<image>` names by path. So the file goes to a child process
(svg_process.py) that parses and rebuilds it (svg_sanitise.py) and only then renders it, at
the size the box needs (never at the declared canvas), under a deadline; the answer is checked
to fit the box before Pillow decodes it here.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

from PIL import Image

from imgtui.common.text import safe_text

from .svg_process import read_exactly, read_sized, sized
from .svg_sanitise import MAX_OUTPUT_SIDE_PX, MAX_SVG_BYTES, PROBLEMS, SvgRefused

RENDER_SECONDS = 8.0  # a parse and render still running then is killed
MAX_MESSAGE_CHARS = 200

__all__ = ["RenderProcess", "SvgRefused", "rasterise", "shutdown"]


# ---------------------------------------------------------------------- the render process

_FONT_CANDIDATES: tuple[tuple[str, str], ...] = (
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "DejaVu Sans"),
    ("/usr/share/fonts/dejavu/DejaVuSans.ttf", "DejaVu Sans"),
    ("/usr/share/fonts/TTF/DejaVuSans.ttf", "DejaVu Sans"),
    ("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf", "Liberation Sans"),
    ("/usr/share/fonts/liberation-sans/LiberationSans-Regular.ttf", "Liberation Sans"),
    ("/usr/share/fonts/noto/NotoSans-Regular.ttf", "Noto Sans"),
    ("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf", "Noto Sans"),
    ("/System/Library/Fonts/Helvetica.ttc", "Helvetica"),
    ("/System/Library/Fonts/Supplemental/Arial.ttf", "Arial"),
    ("C:\\Windows\\Fonts\\arial.ttf", "Arial"),
    ("C:\\Windows\\Fonts\\segoeui.ttf", "Segoe UI"),
)


def default_font() -> tuple[list[str], str | None]:
    """One sans font file for text in SVGs, or none (text is then not drawn)."""
    for path, family in _FONT_CANDIDATES:
        with contextlib.suppress(OSError):
            if Path(path).is_file():
                return [path], family
    return [], None


class RenderProcess:
    """One child process rendering one SVG at a time; started on first use, killed and
    restarted when a render overruns its deadline or the child dies."""

    def __init__(self, deadline: float = RENDER_SECONDS) -> None:
        self.deadline = deadline
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._fonts: tuple[list[str], str | None] | None = None

    def _start(self) -> subprocess.Popen[bytes]:
        import imgtui

        # The child imports this very package: found first through PYTHONPATH (a source
        # checkout that is not installed works too), and `-P` keeps the working directory off
        # sys.path, where another `imgtui` folder (another checkout) would be taken instead.
        package_root = str(Path(imgtui.__file__).resolve().parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
        self._process = subprocess.Popen(
            [sys.executable, "-P", "-m", "imgtui.workflows.svg_process"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        return self._process

    def render(self, data: bytes, box: tuple[int, int]) -> bytes:
        """The PNG the child makes of `data` for `box`; SvgRefused for its refusals, a
        failure, or a render past the deadline (the child is then killed)."""
        with self._lock:
            if self._fonts is None:
                self._fonts = default_font()
            process = self._process
            if process is None or process.poll() is not None:
                self._kill()
                process = self._start()
            header: dict[str, object] = {"box": list(box)}
            header["font_files"], header["font_family"] = self._fonts
            try:
                assert process.stdin is not None and process.stdout is not None
                process.stdin.write(sized(json.dumps(header).encode()) + sized(data))
                process.stdin.flush()
                status, payload = self._answer(process.stdout)
            except (EOFError, OSError, ValueError):
                self._kill()
                raise SvgRefused("SVG: the renderer failed on it", "SVG failed") from None
        if status == b"+":
            return payload
        if status == b"!":
            problem, _, message = payload.decode("utf-8", "replace").partition("\n")
            if problem in PROBLEMS:
                raise SvgRefused(safe_text(message)[:MAX_MESSAGE_CHARS], problem)
        reason = safe_text(payload.decode("ascii", "replace"))[:80]
        raise SvgRefused(f"SVG: not rendered ({reason})", "SVG failed")

    def _answer(self, stream: IO[bytes]) -> tuple[bytes, bytes]:
        """The child's answer, waited for at most `deadline` seconds (then the child dies):
        read on a helper thread, since pipes cannot be polled with a timeout everywhere."""
        box: list[tuple[bytes, bytes] | BaseException] = []

        def read() -> None:
            try:
                box.append((read_exactly(stream, 1), read_sized(stream)))
            except BaseException as exc:
                box.append(exc)

        reader = threading.Thread(target=read, name="imgtui-svg-answer", daemon=True)
        reader.start()
        reader.join(self.deadline)
        if reader.is_alive():
            self._kill()
            reader.join(2)
            raise SvgRefused("SVG: took too long to render", "too complex")
        outcome = box[0]
        if isinstance(outcome, BaseException):
            raise EOFError("no answer")
        return outcome

    def _kill(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(OSError):
            process.kill()
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            process.wait(timeout=2)
        for stream in (process.stdin, process.stdout):
            with contextlib.suppress(OSError):
                if stream is not None:
                    stream.close()

    def close(self) -> None:
        with self._lock:
            self._kill()


_RENDERER = RenderProcess()


def abort() -> None:
    """Kill the render in flight now, without waiting for the lock it holds: the app is
    quitting. Python joins worker threads before atexit handlers run, so without this a quit
    in the middle of a hostile SVG waited out its whole deadline (8 s, per waiting thread).
    The waiting render ends at once with SvgRefused; a later one starts a new child."""
    process = _RENDERER._process
    if process is not None:
        with contextlib.suppress(OSError):
            process.kill()


atexit.register(abort)  # the child would end on its own anyway (its stdin closes): sooner


def rasterise(data: bytes, box: tuple[int, int], *, renderer: RenderProcess | None = None) -> Image.Image:
    """`data` (SVG) as an RGBA image fitting `box`, rendered at that size; SvgRefused when the
    file is refused or the render fails."""
    if len(data) > MAX_SVG_BYTES:  # not even sent to the child
        raise SvgRefused(f"SVG: over {MAX_SVG_BYTES // 2**20} MiB, not rendered", "too large")
    box = (max(1, min(box[0], MAX_OUTPUT_SIDE_PX)), max(1, min(box[1], MAX_OUTPUT_SIDE_PX)))
    png = (renderer or _RENDERER).render(data, box)
    try:
        with Image.open(io.BytesIO(png)) as rendered:
            # resvg rounds the side it derives up: a pixel over is fine, more is not ours.
            if rendered.width > box[0] + 1 or rendered.height > box[1] + 1 or rendered.format != "PNG":
                raise SvgRefused("SVG: the renderer answered the wrong size", "SVG failed")
            image = rendered.convert("RGBA")
    except (OSError, ValueError, SyntaxError):
        raise SvgRefused("SVG: the renderer's answer did not decode", "SVG failed") from None
    if image.width > box[0] or image.height > box[1]:
        image.thumbnail(box, Image.Resampling.BICUBIC)
    return image


def shutdown() -> None:
    """Stop the shared render process (tests, and the app on exit; it dies with us anyway)."""
    _RENDERER.close()
