"""Recognise an image from its bytes and read its dimensions from headers only.

Nothing here decodes pixels, so a decompression bomb costs a few microseconds. Names and
declared content types are never trusted: the bytes decide.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from dataclasses import dataclass

from .errors import ErrorCode, ImagesError
from .rules import MAX_AREA_PX, MAX_SIDE_PX

MAX_AVIF_SIDE_PX = 1_200

_MIME = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "svg": "image/svg+xml",
    "heic": "image/heic",
    "avif": "image/avif",
}
_EXTENSION = {"jpeg": "jpg"}


@dataclass(frozen=True, slots=True)
class ImageInfo:
    format: str  # png | jpeg | gif | webp | svg | heic | avif
    width: int | None  # None for SVG: it has no pixel size to enforce
    height: int | None

    @property
    def mime(self) -> str:
        return _MIME[self.format]

    @property
    def extension(self) -> str:
        return _EXTENSION.get(self.format, self.format)


class _Unsupported(Exception):
    """Raised inside the parsers; turned into ImagesError 5455 at the edge."""


def _png(data: bytes) -> ImageInfo:
    if len(data) < 33 or data[12:16] != b"IHDR":
        raise _Unsupported("truncated PNG header")
    width, height = struct.unpack(">II", data[16:24])
    # The last chunk must be IEND (trailing bytes after it are tolerated, as browsers do).
    if data.rfind(b"IEND\xaeB`\x82") < 33:
        raise _Unsupported("truncated PNG (no IEND chunk)")
    return ImageInfo("png", width, height)


def _gif(data: bytes) -> ImageInfo:
    if len(data) < 14:
        raise _Unsupported("truncated GIF header")
    width, height = struct.unpack("<HH", data[6:10])
    if not data.rstrip(b"\x00").endswith(b";"):
        raise _Unsupported("truncated GIF (no trailer)")
    return ImageInfo("gif", width, height)


_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg(data: bytes) -> ImageInfo:
    pos = 2
    size: tuple[int, int] | None = None
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise _Unsupported("corrupt JPEG segment")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if length < 2 or pos + 2 + length > len(data):
            raise _Unsupported("truncated JPEG segment")
        if marker in _SOF_MARKERS:
            if length < 7:
                raise _Unsupported("corrupt JPEG frame header")
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            size = (width, height)
            break
        if marker == 0xDA:  # start of scan before a frame header
            break
        pos += 2 + length
    if size is None:
        raise _Unsupported("JPEG without a frame header")
    if b"\xff\xd9" not in data[-4096:]:
        raise _Unsupported("truncated JPEG (no end-of-image marker)")
    return ImageInfo("jpeg", *size)


def _webp(data: bytes) -> ImageInfo:
    if len(data) < 30:
        raise _Unsupported("truncated WebP header")
    (riff_size,) = struct.unpack("<I", data[4:8])
    if riff_size + 8 > len(data):
        raise _Unsupported("truncated WebP")
    chunk = data[12:16]
    if chunk == b"VP8 ":
        if data[23:26] != b"\x9d\x01\x2a":
            raise _Unsupported("corrupt VP8 frame")
        width, height = struct.unpack("<HH", data[26:30])
        return ImageInfo("webp", width & 0x3FFF, height & 0x3FFF)
    if chunk == b"VP8L":
        if data[20] != 0x2F:
            raise _Unsupported("corrupt VP8L stream")
        bits = int.from_bytes(data[21:25], "little")
        return ImageInfo("webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return ImageInfo("webp", width, height)
    raise _Unsupported("unknown WebP chunk")


_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}


def _isobmff(data: bytes) -> ImageInfo:
    (ftyp_size,) = struct.unpack(">I", data[0:4])
    if ftyp_size < 16 or ftyp_size > len(data):
        raise _Unsupported("truncated ftyp box")
    brands = {data[8:12]} | {data[i : i + 4] for i in range(16, ftyp_size - 3, 4)}
    if brands & _AVIF_BRANDS:
        fmt = "avif"
    elif brands & _HEIF_BRANDS:
        fmt = "heic"
    else:
        raise _Unsupported("not a HEIC or AVIF file")
    # `ispe` (image spatial extents) boxes carry the sizes; the largest is the primary image.
    sizes = [
        struct.unpack(">II", data[m.end() + 4 : m.end() + 12])
        for m in re.finditer(b"ispe", data[: 1 << 16])
        if m.end() + 12 <= len(data)
    ]
    if not sizes:
        raise _Unsupported(f"{fmt.upper()} without image size")
    width, height = max(sizes, key=lambda wh: wh[0] * wh[1])
    if b"mdat" not in data:
        raise _Unsupported(f"truncated {fmt.upper()} (no media data)")
    return ImageInfo(fmt, width, height)


_SVG_ROOT = re.compile(rb"^(?:\s|<\?xml[^>]*\?>|<!--.*?-->|<!DOCTYPE[^>\[]*>)*<svg[\s>/]", re.S | re.I)


def _svg(data: bytes) -> ImageInfo | None:
    head = data[:4096].lstrip(b"\xef\xbb\xbf")
    if not _SVG_ROOT.match(head):
        return None
    if b"<!ENTITY" in data.upper():  # entity expansion bombs: refuse outright
        raise _Unsupported("SVG with entity declarations")
    tail = data[-256:].rstrip()
    if not (tail.endswith(b"</svg>") or tail.endswith(b"/>")):
        raise _Unsupported("truncated SVG")
    return ImageInfo("svg", None, None)


# The one table of image signatures (first bytes), used here, by the drop parser and by the
# preview decoder. "isobmff" covers HEIC and AVIF (the brands tell them apart, see _isobmff).
SIGNATURES: tuple[tuple[str, Callable[[bytes], bool]], ...] = (
    ("png", lambda head: head.startswith(b"\x89PNG\r\n\x1a\n")),
    ("jpeg", lambda head: head.startswith(b"\xff\xd8\xff")),
    ("gif", lambda head: head[:6] in (b"GIF87a", b"GIF89a")),
    ("webp", lambda head: head[:4] == b"RIFF" and head[8:12] == b"WEBP"),
    ("isobmff", lambda head: head[4:8] == b"ftyp"),
)
SIGNATURE_BYTES = 12  # enough for every raster signature above


def raster_signature(head: bytes) -> str | None:
    """Which raster format the first bytes announce (see SIGNATURES), if any."""
    return next((name for name, matches in SIGNATURES if matches(head)), None)


def looks_like_svg(head: bytes) -> bool:
    """Cheap SVG guess from the first bytes: XML text whose root is (or may be) `<svg`.

    Looser than the upload check (`_svg`), which also parses the prologue and the end.
    """
    text = head[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return text.startswith((b"<svg", b"<?xml")) or (text.startswith(b"<") and b"<svg" in text)


def has_image_signature(head: bytes) -> bool:
    """The first bytes of PNG, JPEG, GIF, WebP, HEIC/AVIF or SVG (cheap, not a validation)."""
    return raster_signature(head) is not None or looks_like_svg(head)


_PARSERS: dict[str, Callable[[bytes], ImageInfo]] = {
    "png": _png,
    "jpeg": _jpeg,
    "gif": _gif,
    "webp": _webp,
    "isobmff": _isobmff,
}


def _identify(data: bytes) -> ImageInfo:
    raster = raster_signature(data)
    if raster is not None:
        return _PARSERS[raster](data)
    svg = _svg(data)
    if svg is not None:
        return svg
    raise _Unsupported("not a supported image")


UNSUPPORTED_MESSAGE = "Uploaded image must be PNG, JPEG, GIF, WebP, SVG, HEIC or AVIF"


def sniff_image(data: bytes) -> ImageInfo:
    """Identify `data` and enforce Cloudflare's size limits, or raise ImagesError.

    5455: empty, truncated, corrupt or unsupported; 5400: dimensions over the limits.
    """
    if not data:
        raise ImagesError(ErrorCode.UNSUPPORTED_IMAGE, f"{UNSUPPORTED_MESSAGE} (the upload is empty)")
    try:
        info = _identify(data)
    except (_Unsupported, struct.error, IndexError) as exc:
        raise ImagesError(
            ErrorCode.UNSUPPORTED_IMAGE, f"{UNSUPPORTED_MESSAGE} ({exc or 'corrupt header'})"
        ) from None
    if info.width is not None and info.height is not None:
        if info.width == 0 or info.height == 0:
            raise ImagesError(ErrorCode.UNSUPPORTED_IMAGE, f"{UNSUPPORTED_MESSAGE} (zero-sized image)")
        max_side = MAX_AVIF_SIDE_PX if info.format == "avif" else MAX_SIDE_PX
        if max(info.width, info.height) > max_side:
            raise ImagesError(
                ErrorCode.BAD_REQUEST,
                f"Image is {info.width}x{info.height} px; a side may be at most {max_side} px",
            )
        if info.width * info.height > MAX_AREA_PX:
            raise ImagesError(
                ErrorCode.BAD_REQUEST,
                f"Image is {info.width}x{info.height} px; at most {MAX_AREA_PX // 1_000_000} megapixels are allowed",
            )
    return info
