"""Making an SVG safe to render, and the size to render it at: pure functions, no renderer.

Used by the render child (svg_process.py), which parses the hostile file so the TUI's process
never does (the parse is pure Python: it would hold the GIL in the app for up to ~0.2 s):

- refused before parsing: more than MAX_SVG_BYTES, any `<!ENTITY` (entity bombs and external
  entities), an internal DTD subset;
- refused while parsing: more than MAX_ELEMENTS elements or MAX_DEPTH levels;
- dropped: `<script>`, `<foreignObject>`, animation elements, event attributes (`on…`), every `href` that is not
  a same-document `#fragment` or a raster `data:` image under the pixel ceiling, every `url()`
  that is not `url(#…)`, `@import` in `<style>`;
- refused after parsing: a canvas (width/height, else the viewBox) over the raster ceiling,
  and `<use>` chains whose expansion exceeds MAX_EXPANDED_NODES (the SVG billion laughs).
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import cast

from PIL import Image

# Cloudflare's limits (imgtui.service.rules), written out: the render child imports this
# module, and importing the service package costs it ~130 ms (pydantic) for three numbers.
# tests/workflows/test_svg_raster.py checks they still match.
MAX_SIDE_PX = 12_000
MAX_AREA_PX = 100_000_000
MAX_UPLOAD_BYTES = 10 * 1024 * 1024

MAX_SVG_BYTES = MAX_UPLOAD_BYTES  # Cloudflare's upload cap: nothing bigger is stored
MAX_ELEMENTS = 100_000
MAX_DEPTH = 256
MAX_EXPANDED_NODES = 250_000  # after `<use>` references are followed
MAX_OUTPUT_SIDE_PX = 4096  # whatever box is asked for
PARSE_CHUNK = 64 * 1024

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
# Scripts and HTML, and animation (a still picture needs none, and `<set attributeName="href">`
# would be a way round the href rule for a renderer that animates).
_DROPPED_TAGS = frozenset(
    {"script", "foreignObject", "handler", "listener", "set", "animate", "animateMotion"}
    | {"animateTransform", "animateColor", "discard"}
)
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


# Every `problem` a refusal may carry: the parent shows only these (the words come back from
# the child process, which has just parsed hostile input).
PROBLEMS = frozenset({"too large", "too complex", "corrupt", "SVG refused", "SVG failed"})


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
            if _local(element.tag) == "image":
                # resvg opens an <image>'s "#name.png" as a file path, not a fragment: only an
                # embedded raster within the pixel limits is kept.
                keep = _safe_data_image(value)
            else:
                keep = value.strip().startswith("#")  # use, gradients, patterns: the document
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


def render_size(size: tuple[float, float], box: tuple[int, int]) -> tuple[int | None, int | None]:
    """What to ask resvg for: only the side that binds (given both, resvg-py fits the width
    whatever the height says, and derives the other side itself)."""
    target = target_size(size, box)
    box_w, box_h = max(1, min(box[0], MAX_OUTPUT_SIDE_PX)), max(1, min(box[1], MAX_OUTPUT_SIDE_PX))
    return (target[0], None) if box_w / size[0] <= box_h / size[1] else (None, target[1])
