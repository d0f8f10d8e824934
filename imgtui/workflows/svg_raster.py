"""SVG to pixels for previews and thumbnails, with nothing trusted in the file (blocking).

The renderer is resvg (through the resvg-py wheel: abi3 wheels for Linux x86_64/aarch64,
macOS and Windows, no system libraries). resvg runs no scripts and has no network code, but
it does read files an `<image>` names. So the SVG is parsed and rebuilt here first, and only
then rendered, in a child process (svg_process.py) under a deadline:

- refused before parsing: more than MAX_SVG_BYTES, any `<!ENTITY` (entity bombs and external
  entities), an internal DTD subset;
- refused while parsing: more than MAX_ELEMENTS elements or MAX_DEPTH levels;
- dropped: `<script>`, `<foreignObject>`, event attributes (`on…`), every `href` that is not
  a same-document `#fragment` or a raster `data:` image under the pixel ceiling, every `url()`
  that is not `url(#…)`, `@import` in `<style>`;
- refused after parsing: a canvas (width/height, else the viewBox) over the raster ceiling,
  and `<use>` chains whose expansion exceeds MAX_EXPANDED_NODES (the SVG billion laughs);
- rendered at the size the box needs (never at the declared canvas), and the answer checked
  to fit the box before Pillow decodes it.
"""

from __future__ import annotations

import atexit
import base64
import binascii
import contextlib
import io
import json
import math
import os
import re
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

from PIL import Image

from imgtui.common.text import safe_text
from imgtui.service.rules import MAX_AREA_PX, MAX_SIDE_PX, MAX_UPLOAD_BYTES

from .svg_process import read_exactly, read_sized, sized

MAX_SVG_BYTES = MAX_UPLOAD_BYTES  # Cloudflare's upload cap: nothing bigger is stored
MAX_ELEMENTS = 100_000
MAX_DEPTH = 256
MAX_EXPANDED_NODES = 250_000  # after `<use>` references are followed
MAX_OUTPUT_SIDE_PX = 4096  # whatever box is asked for
RENDER_SECONDS = 8.0  # a render still running then is killed
PARSE_CHUNK = 64 * 1024

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
_DROPPED_TAGS = frozenset({"script", "foreignObject", "handler", "listener"})
_DATA_IMAGE = re.compile(r"^\s*data:image/(png|jpeg|jpg|gif|webp);base64,", re.I)
_FOREIGN_URL = re.compile(r"url\(\s*(?![\s'\"]*#)[^)]*\)", re.I)
_IMPORT = re.compile(r"@import\b[^;]*;?", re.I)
_LENGTH = re.compile(r"^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*([a-z%]*)\s*$", re.I)
# CSS px per unit (https://www.w3.org/TR/css-values-3/#absolute-lengths); em/ex as resvg's 16 px.
_UNITS = {"": 1.0, "px": 1.0, "pt": 4 / 3, "pc": 16.0, "mm": 96 / 25.4, "cm": 96 / 2.54, "in": 96.0}
_UNITS |= {"q": 96 / 101.6, "em": 16.0, "ex": 8.0}
DEFAULT_SIZE = 100.0  # resvg's (and browsers') size of an SVG that declares none

ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", XLINK_NS)


class SvgRefused(Exception):
    """Not rendered; `message` for the panel, `problem` a word or two for a grid cell."""

    def __init__(self, message: str, problem: str) -> None:
        super().__init__(message)
        self.message = message
        self.problem = problem


@dataclass(frozen=True, slots=True)
class CleanSvg:
    text: str  # the rebuilt document, safe to hand to resvg
    size: tuple[float, float]  # its intrinsic size in CSS px
    dropped: int  # elements and attributes removed


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def _parse(data: bytes) -> ET.Element:
    if len(data) > MAX_SVG_BYTES:
        raise SvgRefused(f"SVG: over {MAX_SVG_BYTES // 2**20} MiB, not rendered", "too large")
    if re.search(rb"<!ENTITY", data, re.I) or re.search(rb"<!DOCTYPE[^>\[]*\[", data, re.I):
        raise SvgRefused("SVG: entity declarations are not rendered", "SVG refused")
    parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("start", "end"))
    depth = elements = 0
    root: ET.Element | None = None
    try:
        for offset in range(0, len(data), PARSE_CHUNK):
            parser.feed(data[offset : offset + PARSE_CHUNK])
            for item in parser.read_events():
                event, element = cast(tuple[str, object], item)  # only start/end were asked for
                if event == "end":
                    depth -= 1
                    continue
                depth += 1
                elements += 1
                if root is None and isinstance(element, ET.Element):
                    root = element
                if depth > MAX_DEPTH or elements > MAX_ELEMENTS:
                    raise SvgRefused("SVG: too many or too deeply nested elements", "too complex")
        parser.close()
    except ET.ParseError:
        raise SvgRefused("SVG: not well-formed XML", "corrupt") from None
    if root is None or root.tag != f"{{{SVG_NS}}}svg":
        raise SvgRefused("SVG: the root element is not <svg>", "corrupt")
    return root


def _length(value: str | None, reference: float | None) -> float | None:
    if value is None:
        return None
    match = _LENGTH.match(value)
    if match is None:
        return None
    number, unit = float(match.group(1)), match.group(2).lower()
    if unit == "%":
        return None if reference is None else reference * number / 100
    factor = _UNITS.get(unit)
    return None if factor is None else number * factor


def _view_box(root: ET.Element) -> tuple[float, float] | None:
    raw = root.get("viewBox")
    if raw is None:
        return None
    try:
        numbers = [float(part) for part in re.split(r"[\s,]+", raw.strip()) if part]
    except ValueError:
        return None
    if len(numbers) != 4 or not all(math.isfinite(number) for number in numbers):
        return None
    return numbers[2], numbers[3]


def canvas_size(root: ET.Element) -> tuple[float, float]:
    """The intrinsic size (CSS px) the way resvg reads it: width/height, else the viewBox."""
    box = _view_box(root)
    width = _length(root.get("width"), box[0] if box else None)
    height = _length(root.get("height"), box[1] if box else None)
    if box is not None and box[0] > 0 and box[1] > 0:
        if width is None and height is None:
            width, height = box
        elif width is None and height is not None:
            width = height * box[0] / box[1]
        elif height is None and width is not None:
            height = width * box[1] / box[0]
    width = DEFAULT_SIZE if width is None else width
    height = DEFAULT_SIZE if height is None else height
    if not (math.isfinite(width) and math.isfinite(height)) or width <= 0 or height <= 0:
        raise SvgRefused("SVG: the canvas has no usable size", "corrupt")
    if box is not None and max(abs(box[0]), abs(box[1])) > MAX_SIDE_PX * 1000:
        raise SvgRefused("SVG: the viewBox is absurdly large", "too large")
    if max(width, height) > MAX_SIDE_PX or width * height > MAX_AREA_PX:
        raise SvgRefused(
            f"SVG: the canvas is {width:.0f}x{height:.0f} px, over the limits"
            f" ({MAX_SIDE_PX} px a side, {MAX_AREA_PX // 1_000_000} megapixels)",
            "too large",
        )
    return width, height


def _safe_data_image(value: str) -> bool:
    """A base64 raster image whose header is under the pixel ceiling (resvg decodes it)."""
    if not _DATA_IMAGE.match(value):
        return False
    try:
        raw = base64.b64decode(value.split(",", 1)[1].strip(), validate=False)
        with Image.open(io.BytesIO(raw)) as embedded:  # the header only
            width, height = embedded.size
    except (binascii.Error, ValueError, OSError, Image.DecompressionBombError):
        return False
    return max(width, height) <= MAX_SIDE_PX and width * height <= MAX_AREA_PX


def _clean_attributes(element: ET.Element) -> int:
    dropped = 0
    for name, value in list(element.attrib.items()):
        local = _local(name)
        keep = True
        if local.lower().startswith("on"):
            keep = False
        elif local == "href":
            keep = value.strip().startswith("#") or (
                _local(element.tag) == "image" and _safe_data_image(value)
            )
        if not keep:
            del element.attrib[name]
            dropped += 1
            continue
        if "url(" in value.lower():
            cleaned = _FOREIGN_URL.sub("none", value)
            if cleaned != value:
                element.set(name, cleaned)
                dropped += 1
    return dropped


def _clean_tree(root: ET.Element) -> int:
    dropped = 0
    stack = [root]
    while stack:
        parent = stack.pop()
        for child in list(parent):
            if not isinstance(child.tag, str) or _local(child.tag) in _DROPPED_TAGS:
                parent.remove(child)
                dropped += 1
                continue
            stack.append(child)
        dropped += _clean_attributes(parent)
        if _local(parent.tag) == "style" and parent.text:
            cleaned = _FOREIGN_URL.sub("none", _IMPORT.sub("", parent.text))
            if cleaned != parent.text:
                parent.text = cleaned
                dropped += 1
    return dropped


def _expanded_nodes(root: ET.Element) -> int:
    """How many nodes the tree has once every `<use>` is replaced by what it references,
    counted without building it (memoised post-order walk; a cycle counts as too many)."""
    by_id = {element.get("id"): element for element in root.iter() if element.get("id")}
    total: dict[int, int] = {}
    visiting: set[int] = set()
    stack: list[tuple[ET.Element, bool]] = [(root, False)]
    while stack:
        element, children_done = stack.pop()
        key = id(element)
        if key in total:
            continue
        target = None
        if _local(element.tag) == "use":
            href = element.get("href") or element.get(f"{{{XLINK_NS}}}href") or ""
            target = by_id.get(href.strip()[1:]) if href.strip().startswith("#") else None
        parts = [*list(element), *([target] if target is not None else [])]
        if not children_done:
            if key in visiting:
                return MAX_EXPANDED_NODES + 1  # a reference cycle
            visiting.add(key)
            stack.append((element, True))
            for part in parts:
                if id(part) in visiting and id(part) not in total:
                    return MAX_EXPANDED_NODES + 1
                stack.append((part, False))
            continue
        visiting.discard(key)
        count = 1 + sum(total.get(id(part), 0) for part in parts)
        if count > MAX_EXPANDED_NODES:
            return count
        total[key] = count
    return total.get(id(root), 0)


def sanitise(data: bytes) -> CleanSvg:
    """The SVG rebuilt without anything that runs, reaches outside, or explodes; raises
    SvgRefused for what cannot be made safe."""
    root = _parse(data)
    size = canvas_size(root)
    dropped = _clean_tree(root)
    if _expanded_nodes(root) > MAX_EXPANDED_NODES:
        raise SvgRefused("SVG: its <use> references expand too far", "too complex")
    text = ET.tostring(root, encoding="unicode")
    return CleanSvg(text, size, dropped)


def target_size(size: tuple[float, float], box: tuple[int, int]) -> tuple[int, int]:
    """The largest size with the SVG's aspect that fits `box` (vectors scale up, too)."""
    box_w = max(1, min(box[0], MAX_OUTPUT_SIDE_PX))
    box_h = max(1, min(box[1], MAX_OUTPUT_SIDE_PX))
    scale = min(box_w / size[0], box_h / size[1])
    return (
        max(1, min(box_w, math.floor(size[0] * scale + 0.5))),
        max(1, min(box_h, math.floor(size[1] * scale + 0.5))),
    )


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

    def render(self, svg: str, size: tuple[int | None, int | None]) -> bytes:
        with self._lock:
            if self._fonts is None:
                self._fonts = default_font()
            process = self._process
            if process is None or process.poll() is not None:
                self._kill()
                process = self._start()
            header: dict[str, object] = {"width": size[0], "height": size[1]}
            header["font_files"], header["font_family"] = self._fonts
            try:
                assert process.stdin is not None and process.stdout is not None
                process.stdin.write(sized(json.dumps(header).encode()) + sized(svg.encode("utf-8")))
                process.stdin.flush()
                status, payload = self._answer(process.stdout)
            except (EOFError, OSError, ValueError):
                self._kill()
                raise SvgRefused("SVG: the renderer failed on it", "SVG failed") from None
        if status != b"+":
            reason = payload.decode("ascii", "replace")
            raise SvgRefused(f"SVG: not rendered ({safe_text(reason)})", "SVG failed")
        return payload

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


@atexit.register
def _kill_at_exit() -> None:
    # Without the lock: a render in flight must not hold up the exit. The child would end
    # on its own anyway (its stdin closes), this only makes it immediate.
    process = _RENDERER._process
    if process is not None:
        with contextlib.suppress(OSError):
            process.kill()


def rasterise(data: bytes, box: tuple[int, int], *, renderer: RenderProcess | None = None) -> Image.Image:
    """`data` (SVG) as an RGBA image fitting `box`, rendered at that size; SvgRefused when the
    file is refused or the render fails."""
    clean = sanitise(data)
    size = target_size(clean.size, box)
    # Name only the side that binds (see svg_process.render_png).
    box_w, box_h = max(1, min(box[0], MAX_OUTPUT_SIDE_PX)), max(1, min(box[1], MAX_OUTPUT_SIDE_PX))
    binds_width = box_w / clean.size[0] <= box_h / clean.size[1]
    request = (size[0], None) if binds_width else (None, size[1])
    png = (renderer or _RENDERER).render(clean.text, request)
    try:
        with Image.open(io.BytesIO(png)) as rendered:
            # resvg rounds the side it derives up: a pixel over is fine, more is not ours.
            if rendered.width > size[0] + 1 or rendered.height > size[1] + 1 or rendered.format != "PNG":
                raise SvgRefused("SVG: the renderer answered the wrong size", "SVG failed")
            image = rendered.convert("RGBA")
    except (OSError, ValueError, SyntaxError):
        raise SvgRefused("SVG: the renderer's answer did not decode", "SVG failed") from None
    if image.width > box[0] or image.height > box[1]:
        image.thumbnail((max(1, box[0]), max(1, box[1])), Image.Resampling.BICUBIC)
    return image


def shutdown() -> None:
    """Stop the shared render process (tests, and the app on exit; it dies with us anyway)."""
    _RENDERER.close()
