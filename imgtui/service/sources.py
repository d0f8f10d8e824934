"""Reading an upload's source (bytes, file, path, async stream) into bytes, off the event
loop and never past the size limit, and decoding base64."""

from __future__ import annotations

import asyncio
import base64
import binascii
import pathlib
from collections.abc import AsyncIterable
from typing import IO, Any

from .errors import ErrorCode, ImagesError
from .rules import MAX_BASE64_TEXT_BYTES, MAX_UPLOAD_BYTES


def _too_large() -> ImagesError:
    return ImagesError(ErrorCode.TOO_LARGE, f"Image is larger than {MAX_UPLOAD_BYTES} bytes")


def _read_file_capped(fileobj: IO[bytes], cap: int) -> bytes:
    try:
        data = fileobj.read(cap + 1)
    except (OSError, ValueError) as exc:  # ValueError: a closed file
        raise ImagesError(ErrorCode.BAD_REQUEST, f"Cannot read the image file: {exc}") from None
    if data is None:  # non-blocking stream with nothing ready
        data = b""
    if isinstance(data, str):
        raise ImagesError(ErrorCode.BAD_REQUEST, "Image file must be opened in binary mode")
    return bytes(data)


def _read_path_capped(path: pathlib.Path, cap: int) -> bytes:
    try:
        with path.open("rb") as fileobj:
            return _read_file_capped(fileobj, cap)
    except OSError as exc:
        raise ImagesError(ErrorCode.BAD_REQUEST, f"Cannot read {path.name}: {exc.strerror or exc}") from None


async def read_source(source: Any, *, cap: int) -> bytes:
    """Return at most cap+1 bytes of `source` (one byte over means "too large")."""
    if isinstance(source, bytes | bytearray):
        return bytes(source[: cap + 1])
    if isinstance(source, memoryview):
        try:
            flat = source.cast("B")  # count bytes, not items of a wider format
        except TypeError:
            raise ImagesError(ErrorCode.BAD_REQUEST, "An image memoryview must be contiguous") from None
        return bytes(flat[: cap + 1])
    if isinstance(source, pathlib.PurePath):
        return await asyncio.to_thread(_read_path_capped, pathlib.Path(source), cap)
    if hasattr(source, "read"):
        return await asyncio.to_thread(_read_file_capped, source, cap)
    if isinstance(source, AsyncIterable):
        parts: list[bytes] = []
        size = 0
        async for chunk in source:
            if not isinstance(chunk, bytes | bytearray | memoryview):
                raise ImagesError(ErrorCode.BAD_REQUEST, "An image stream must yield bytes")
            parts.append(bytes(chunk))
            size += len(chunk)
            if size > cap:
                break
        return b"".join(parts)
    raise ImagesError(
        ErrorCode.BAD_REQUEST,
        f"Unsupported image source {type(source).__name__}: pass bytes, a path, a binary file or an async byte stream",
    )


def _decode_base64(text: bytes) -> bytes:
    compact = b"".join(text.split())
    if len(compact) > MAX_UPLOAD_BYTES * 4 // 3 + 4:
        raise _too_large()
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise ImagesError(ErrorCode.BAD_REQUEST, "Image is not valid base64") from None


async def load_image_bytes(source: Any, encoding: str | None) -> bytes:
    """The decoded image bytes of an upload, or ImagesError 5400/5413."""
    if encoding not in (None, "base64"):
        raise ImagesError(ErrorCode.BAD_REQUEST, "encoding must be omitted or 'base64'")
    if encoding is None:
        data = await read_source(source, cap=MAX_UPLOAD_BYTES)
    else:
        text = await read_source(source, cap=MAX_BASE64_TEXT_BYTES)
        data = await asyncio.to_thread(_decode_base64, text)  # ~20 ms for 10 MiB: off the loop
    if len(data) > MAX_UPLOAD_BYTES:
        raise _too_large()
    return data
