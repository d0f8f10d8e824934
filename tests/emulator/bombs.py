"""Hostile images built in a few milliseconds: a GIF whose one frame is far larger than its
logical screen (the screen is what a naive header check reads)."""

from __future__ import annotations

import struct
import zlib

_GIF_MIN_CODE_SIZE = 2  # a four-colour palette
_MAX_CODES = 4096  # GIF's LZW table holds 12-bit codes


def _lzw_zeros(pixels: int) -> bytes:
    """GIF-flavoured LZW for `pixels` zero pixels, about 1.5 bytes per 4,000 pixels.

    Each code spells one more zero than the one before (the table grows "0", "00", "000", ...);
    when the table is full a clear code starts over.
    """
    clear = 1 << _GIF_MIN_CODE_SIZE
    end = clear + 1
    out = bytearray()
    acc = bits = 0

    def emit(code: int, width: int) -> None:
        nonlocal acc, bits
        acc |= code << bits
        bits += width
        while bits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            bits -= 8

    width = _GIF_MIN_CODE_SIZE + 1
    emit(clear, width)
    remaining = pixels
    while remaining:
        width, next_code, run = _GIF_MIN_CODE_SIZE + 1, end + 1, 1
        while remaining and next_code < _MAX_CODES:
            take = min(run, remaining)
            emit(0 if take == 1 else end + take - 1, width)  # code end+k spells k+1 zeros
            remaining -= take
            if run > 1:  # the decoder adds a table entry after every code but the first
                next_code += 1
                if next_code == 1 << width and width < 12:
                    width += 1
            run += 1
        if remaining:
            emit(clear, width)
    emit(end, width)
    if bits:
        out.append(acc & 0xFF)
    return bytes(out)


def gif_bomb(frame: int = 12_000, screen: int = 1) -> bytes:
    """A GIF89a with a `screen`x`screen` logical screen and one `frame`x`frame` frame
    (12000x12000 is 144 megapixels in about 100 KB)."""
    data = _lzw_zeros(frame * frame)
    blocks = b"".join(bytes([len(data[i : i + 255])]) + data[i : i + 255] for i in range(0, len(data), 255))
    header = b"GIF89a" + struct.pack("<HHBBB", screen, screen, 0x81, 0, 0)  # global palette of 4
    palette = b"\x00\x00\x00\xff\xff\xff" + b"\x00" * 6
    descriptor = b"," + struct.pack("<HHHHB", 0, 0, frame, frame, 0)
    return header + palette + descriptor + bytes([_GIF_MIN_CODE_SIZE]) + blocks + b"\x00;"


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares `width`x`height` and holds no pixels: enough for any check that
    must refuse it from the header (decoding it would fail, or cost the declared size)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    )
