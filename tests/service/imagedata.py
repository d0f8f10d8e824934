"""Small real images (made once with Pillow) and crafted headers for the tests."""

from __future__ import annotations

import functools
import io
import struct
import zlib

from PIL import Image


def _encode(fmt: str, size: tuple[int, int] = (3, 2), color: tuple[int, int, int] = (200, 30, 90)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt)
    return out.getvalue()


@functools.cache
def png(size: tuple[int, int] = (3, 2), color: tuple[int, int, int] = (200, 30, 90)) -> bytes:
    return _encode("PNG", size, color)


@functools.cache
def jpeg() -> bytes:
    return _encode("JPEG")


@functools.cache
def gif() -> bytes:
    return _encode("GIF")


@functools.cache
def webp() -> bytes:
    return _encode("WEBP")


SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"></svg>\n'


def distinct_png(n: int) -> bytes:
    """A different valid PNG for each n (the bytes differ; the pixels do not matter)."""
    return png() + n.to_bytes(8, "big")  # trailing bytes after IEND are tolerated


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def crafted_png(width: int, height: int) -> bytes:
    """A PNG header claiming any size, with no pixel data: must be judged without decoding."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IEND", b"")


def crafted_jpeg(width: int, height: int) -> bytes:
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + sof + b"\xff\xd9"


def crafted_gif(width: int, height: int) -> bytes:
    return b"GIF89a" + struct.pack("<HH", width, height) + b"\x00\x00\x00" + b";"


def crafted_webp(width: int, height: int) -> bytes:
    """A VP8X (extended) WebP header: 24-bit sizes, minus one."""
    vp8x = b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    body = b"WEBP" + b"VP8X" + struct.pack("<I", len(vp8x)) + vp8x
    return b"RIFF" + struct.pack("<I", len(body)) + body
