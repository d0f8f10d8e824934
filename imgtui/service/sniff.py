"""Recognise an image from its bytes and read its dimensions from headers only.

Nothing here decodes pixels, so a decompression bomb costs a few microseconds. Names and
declared content types are never trusted: the bytes decide.

Animated formats are walked frame by frame (GIF image descriptors, APNG `fcTL` chunks, WebP
`ANMF` chunks), because a decoder sizes its canvas from the frames too: a GIF whose logical
screen is 1x1 but whose one frame is 12000x12000 decodes as 12000x12000. The walk only reads
lengths and descriptors, never pixel data.
"""

from __future__ import annotations

import asyncio
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass

from .errors import ErrorCode, ImagesError
from .rules import MAX_ANIMATION_AREA_PX, MAX_AREA_PX, MAX_SIDE_PX

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
    frames: int = 1  # image frames found (animated GIF, APNG, WebP); 0 for a GIF without any
    frames_area: int = 0  # the frames' pixels added up (0 when not walked: a still image)

    @property
    def mime(self) -> str:
        return _MIME[self.format]

    @property
    def extension(self) -> str:
        return _EXTENSION.get(self.format, self.format)


class _Unsupported(Exception):
    """Raised inside the parsers; turned into ImagesError 5455 at the edge."""


class _Canvas:
    """The real canvas of an animation: the declared size grown to cover every frame."""

    __slots__ = ("area", "frames", "height", "width")

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.frames = 0
        self.area = 0

    def add_frame(self, left: int, top: int, width: int, height: int) -> None:
        self.frames += 1
        self.area += width * height
        self.width = max(self.width, left + width)
        self.height = max(self.height, top + height)

    def info(self, fmt: str) -> ImageInfo:
        return ImageInfo(fmt, self.width, self.height, self.frames, self.area)


def _png(data: bytes) -> ImageInfo:
    if len(data) < 33 or data[12:16] != b"IHDR":
        raise _Unsupported("truncated PNG header")
    width, height = struct.unpack(">II", data[16:24])
    # The last chunk must be IEND (trailing bytes after it are tolerated, as browsers do).
    if data.rfind(b"IEND\xaeB`\x82") < 33:
        raise _Unsupported("truncated PNG (no IEND chunk)")
    return _apng_frames(data, width, height) or ImageInfo("png", width, height)


def _apng_frames(data: bytes, width: int, height: int) -> ImageInfo | None:
    """APNG (https://www.w3.org/TR/png-3/#apng-frame-control): every `fcTL` chunk's frame,
    or None for a still PNG (no `acTL` before the first IDAT: the walk stops there)."""
    unpack_from, end = struct.unpack_from, len(data)
    pos = 33  # after the signature and IHDR
    animated = False
    canvas = _Canvas(width, height)
    while pos + 8 <= end:
        length, kind = unpack_from(">I4s", data, pos)
        if kind == b"fcTL":
            if length < 26 or pos + 8 + 20 > end:
                raise _Unsupported("truncated APNG frame header")
            frame_w, frame_h, left, top = unpack_from(">IIII", data, pos + 12)
            canvas.add_frame(left, top, frame_w, frame_h)
        elif kind == b"acTL":
            animated = True
        elif kind in (b"IDAT", b"IEND") and not animated:
            return None
        elif kind == b"IEND":
            break
        pos += 12 + length  # length, type, data, CRC
    return canvas.info("png") if animated else None


def _gif(data: bytes) -> ImageInfo:
    """Every image descriptor, read the way Pillow reads them (GifImagePlugin: it grows the
    canvas to cover a frame and skips bytes it does not know), so none can hide from us.
    Format: https://www.w3.org/Graphics/GIF/spec-gif89a.txt"""
    if len(data) < 14:
        raise _Unsupported("truncated GIF header")
    width, height, packed = struct.unpack_from("<HHB", data, 6)
    if not data.rstrip(b"\x00").endswith(b";"):
        raise _Unsupported("truncated GIF (no trailer)")
    canvas = _Canvas(width, height)
    end = len(data)
    pos = 13 + (3 << ((packed & 7) + 1) if packed & 0x80 else 0)  # after the global colour table
    while pos < end:
        block = data[pos]
        if block == 0x3B:  # trailer
            break
        if block == 0x2C:  # image descriptor: left, top, width, height, flags
            if pos + 10 > end:
                raise _Unsupported("truncated GIF frame header")
            left, top, frame_w, frame_h, flags = struct.unpack_from("<HHHHB", data, pos + 1)
            canvas.add_frame(left, top, frame_w, frame_h)
            pos += 10 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
            pos = _skip_gif_sub_blocks(data, pos + 1)  # after the LZW minimum code size
        elif block == 0x21:  # extension: label, then data sub-blocks
            pos = _skip_gif_sub_blocks(data, pos + 2)
        else:
            pos += 1  # a stray byte: Pillow skips it too
    return canvas.info("gif")


def _skip_gif_sub_blocks(data: bytes, pos: int) -> int:
    """The position after a run of sub-blocks (each a length byte, then that many bytes)."""
    end = len(data)
    while pos < end:
        size = data[pos]
        if size == 0:
            return pos + 1
        pos += size + 1
    raise _Unsupported("truncated GIF data")


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
        return _webp_frames(data, width, height, riff_size + 8)
    raise _Unsupported("unknown WebP chunk")


def _webp_bitstream_size(data: bytes, pos: int) -> tuple[int, int] | None:
    """The size a `VP8 ` or `VP8L` chunk at `pos` declares, or None for any other chunk."""
    kind = data[pos : pos + 4]
    if kind == b"VP8 ":
        if data[pos + 11 : pos + 14] != b"\x9d\x01\x2a":
            raise _Unsupported("corrupt VP8 frame")
        width, height = struct.unpack_from("<HH", data, pos + 14)
        return width & 0x3FFF, height & 0x3FFF
    if kind == b"VP8L":
        if data[pos + 8] != 0x2F:
            raise _Unsupported("corrupt VP8L stream")
        bits = int.from_bytes(data[pos + 9 : pos + 13], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def _webp_frames(data: bytes, width: int, height: int, end: int) -> ImageInfo:
    """Extended WebP (https://developers.google.com/speed/webp/docs/riff_container): every
    `ANMF` frame, and the size every bitstream declares, grow the VP8X canvas."""
    canvas = _Canvas(width, height)
    pos = 30  # after RIFF, WEBP and the VP8X chunk
    while pos + 8 <= end:
        (length,) = struct.unpack_from("<I", data, pos + 4)
        kind = data[pos : pos + 4]
        if kind == b"ANMF":
            if length < 16 or pos + 24 > end:
                raise _Unsupported("truncated WebP frame header")
            # Four 24-bit little-endian fields: X/2, Y/2, width-1, height-1.
            fields = int.from_bytes(data[pos + 8 : pos + 20], "little")
            left = (fields & 0xFFFFFF) * 2
            top = ((fields >> 24) & 0xFFFFFF) * 2
            frame_w = ((fields >> 48) & 0xFFFFFF) + 1
            frame_h = ((fields >> 72) & 0xFFFFFF) + 1
            frame_end = min(end, pos + 8 + length)
            sub = pos + 24  # the frame's own chunks: ALPH, then VP8 or VP8L
            while sub + 8 <= frame_end:
                declared = _webp_bitstream_size(data, sub)
                if declared is not None:
                    frame_w, frame_h = max(frame_w, declared[0]), max(frame_h, declared[1])
                (sub_length,) = struct.unpack_from("<I", data, sub + 4)
                sub += 8 + sub_length + (sub_length & 1)
            canvas.add_frame(left, top, frame_w, frame_h)
        else:
            declared = _webp_bitstream_size(data, pos)
            if declared is not None:  # a still image: its bitstream may not be bigger either
                canvas.width, canvas.height = max(width, declared[0]), max(height, declared[1])
        pos += 8 + length + (length & 1)  # chunks are padded to an even size
    return canvas.info("webp") if canvas.frames else ImageInfo("webp", canvas.width, canvas.height)


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
        if info.frames_area > MAX_ANIMATION_AREA_PX:
            raise ImagesError(
                ErrorCode.BAD_REQUEST,
                f"Animation has {info.frames} frames of {info.frames_area:,} px in all; at most"
                f" {MAX_ANIMATION_AREA_PX // 1_000_000} megapixels are allowed for all frames together",
            )
    return info


# Sniffing walks every frame of an animation: microseconds for real files, but a hostile
# 10 MiB file of 1x1 frames takes ~1 s of CPU, so larger inputs are sniffed on a thread and
# the event loop (the TUI, `imgtui serve`) keeps answering meanwhile.
SNIFF_INLINE_BYTES = 256 * 1024


async def sniff_image_async(data: bytes) -> ImageInfo:
    """`sniff_image`, off the event loop when `data` is large enough for it to matter."""
    if len(data) <= SNIFF_INLINE_BYTES:
        return sniff_image(data)
    return await asyncio.to_thread(sniff_image, data)
