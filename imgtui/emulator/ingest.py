"""Upload by `url`: fetch the image with httpx, with a size cap and timeouts."""

from __future__ import annotations

import posixpath
from urllib.parse import unquote, urlsplit

import httpx

from imgtui.service.errors import ErrorCode, ImagesError
from imgtui.service.rules import MAX_FILENAME_CHARS, MAX_UPLOAD_BYTES


def _failed(reason: str) -> ImagesError:
    return ImagesError(ErrorCode.BAD_REQUEST, f"Failed to fetch the image from the URL: {reason}")


def filename_from_url(url: str) -> str | None:
    name = posixpath.basename(unquote(urlsplit(url).path))
    if not name or len(name) > MAX_FILENAME_CHARS or any(ord(ch) < 0x20 for ch in name):
        return None
    return name


async def fetch_image(client: httpx.AsyncClient, url: str) -> bytes:
    """The bytes at `url` (at most MAX_UPLOAD_BYTES), or ImagesError 5400/5413."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ImagesError(ErrorCode.BAD_REQUEST, "url must be an http or https URL")
    try:
        async with client.stream("GET", url) as response:
            if response.status_code != 200:
                raise _failed(f"the origin answered HTTP {response.status_code}")
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES:
                raise ImagesError(ErrorCode.TOO_LARGE, f"Image is larger than {MAX_UPLOAD_BYTES} bytes")
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > MAX_UPLOAD_BYTES:
                    raise ImagesError(ErrorCode.TOO_LARGE, f"Image is larger than {MAX_UPLOAD_BYTES} bytes")
                chunks.append(chunk)
            return b"".join(chunks)
    except httpx.TimeoutException:
        raise _failed("the origin did not answer in time") from None
    except httpx.HTTPError as exc:
        raise _failed(f"{type(exc).__name__}: {exc}") from None
