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


def _lzw_constant(pixel_count: int) -> bytes:
    """GIF LZW data (minimum code size 2) for `pixel_count` pixels of colour 0.

    Constant pixels compress to runs of 1, 2, 3, ... pixels, one code each, and a clear code
    whenever the table is full (4096 codes): about 2000 pixels per 12-bit code. This is how a
    107 KB file holds a 12000x12000 frame.
    """
    clear, end = 4, 5
    out = bytearray()
    acc = bits = 0
    size = 3

    def emit(code: int) -> None:
        nonlocal acc, bits
        acc |= code << bits
        bits += size
        while bits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            bits -= 8

    emit(clear)
    next_code, run, left = end + 1, 1, pixel_count
    while left:
        length = min(run, left)
        emit(0 if length == 1 else end + length - 1)  # code end+k holds k+1 zeros
        left -= length
        # As compress(1) does: widen the codes once the table outgrows them, then add the entry
        # (this run plus one pixel); the decoder, one code behind, widens at the same point.
        if next_code > (1 << size) - 1 and size < 12:
            size += 1
        if next_code < 4096 and length == run:
            next_code += 1
            run += 1
        elif next_code == 4096:  # table full: start again, as most encoders do
            emit(clear)
            size, next_code, run = 3, end + 1, 1
    emit(end)
    if bits:
        out.append(acc & 0xFF)
    return bytes(out)


def _sub_blocks(data: bytes) -> bytes:
    return b"".join(
        bytes([len(part)]) + part for part in (data[i : i + 255] for i in range(0, len(data), 255))
    )


def gif_frame(left: int, top: int, width: int, height: int, lzw: bytes | None = None) -> bytes:
    """One image descriptor and its data (real LZW for the whole frame unless `lzw` is given)."""
    data = _lzw_constant(width * height) if lzw is None else lzw
    descriptor = b"," + struct.pack("<HHHHB", left, top, width, height, 0)
    return descriptor + b"\x02" + _sub_blocks(data) + b"\x00"


def animated_gif(screen: tuple[int, int], frames: list[bytes]) -> bytes:
    """A GIF with a two-colour global table, looping, holding the given frames."""
    header = b"GIF89a" + struct.pack("<HHBBB", *screen, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    netscape = b"!\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    delay = b"!\xf9\x04\x04\x0a\x00\x00\x00"
    return header + netscape + b"".join(delay + frame for frame in frames) + b";"


@functools.cache
def gif_bomb() -> bytes:
    """Issue 9's bomb: a 1x1 logical screen and one 12000x12000 frame, about 107 KB."""
    return animated_gif((1, 1), [gif_frame(0, 0, 12_000, 12_000)])


def apng(canvas: tuple[int, int], frames: list[tuple[int, int, int, int]]) -> bytes:
    """An APNG with `fcTL` chunks for (left, top, width, height) frames (pixel data elided)."""
    ihdr = struct.pack(">IIBBBBB", *canvas, 8, 2, 0, 0, 0)
    chunks = [_chunk(b"IHDR", ihdr), _chunk(b"acTL", struct.pack(">II", len(frames), 0))]
    for seq, (left, top, width, height) in enumerate(frames):
        fctl = struct.pack(">IIIIIHHBB", seq, width, height, left, top, 1, 10, 0, 0)
        chunks.append(_chunk(b"fcTL", fctl))
        chunks.append(_chunk(b"IDAT" if seq == 0 else b"fdAT", b"" if seq == 0 else struct.pack(">I", seq)))
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks) + _chunk(b"IEND", b"")


def _riff_chunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("<I", len(body)) + body + (b"\x00" if len(body) & 1 else b"")


def _vp8l(width: int, height: int) -> bytes:
    bits = (width - 1) | ((height - 1) << 14)
    return _riff_chunk(b"VP8L", b"\x2f" + bits.to_bytes(4, "little") + b"\x00" * 4)


def animated_webp(
    canvas: tuple[int, int], frames: list[tuple[int, int, int, int]], bitstream: tuple[int, int] | None = None
) -> bytes:
    """A VP8X WebP with ANMF frames (left, top even) holding a VP8L header of the frame's
    size, or of `bitstream` when given (a frame whose pixels disagree with its header)."""
    vp8x = b"\x02\x00\x00\x00" + (canvas[0] - 1).to_bytes(3, "little") + (canvas[1] - 1).to_bytes(3, "little")
    chunks = [_riff_chunk(b"VP8X", vp8x), _riff_chunk(b"ANIM", b"\x00" * 6)]
    for left, top, width, height in frames:
        fields = b"".join(
            value.to_bytes(3, "little") for value in (left // 2, top // 2, width - 1, height - 1, 100)
        )
        chunks.append(_riff_chunk(b"ANMF", fields + b"\x00" + _vp8l(*(bitstream or (width, height)))))
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def still_vp8x_webp(canvas: tuple[int, int], bitstream: tuple[int, int]) -> bytes:
    vp8x = b"\x00\x00\x00\x00" + (canvas[0] - 1).to_bytes(3, "little") + (canvas[1] - 1).to_bytes(3, "little")
    body = b"WEBP" + _riff_chunk(b"VP8X", vp8x) + _vp8l(*bitstream)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def pillow_animation(fmt: str, frames: int = 3, size: tuple[int, int] = (20, 10)) -> bytes:
    """A real animated GIF, APNG or WebP written by Pillow."""
    images = [Image.new("RGB", size, (40 * n, 90, 160)) for n in range(frames)]
    out = io.BytesIO()
    images[0].save(out, fmt, save_all=True, append_images=images[1:], duration=100, loop=0)
    return out.getvalue()
