"""Fetching an image from a URL under a byte cap: one fetcher for the upload form's URL
items (workflows/upload_queue.py) and for `imgtui serve`'s upload-by-URL (emulator/ingest.py).

The two callers differ on purpose in how a failure reads and which code it carries: the
client reports an unreachable or overloaded origin as NETWORK, so Retry stays on offer, while
`imgtui serve` answers 5400 as Cloudflare does (https://developers.cloudflare.com/images/storage/upload-images/upload-url/).
So the codes are parameters, and the wording comes from the caller's `describe`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Literal
from urllib.parse import unquote, urlsplit

import httpx

from .errors import ErrorCode, ImagesError
from .rules import MAX_FILENAME_CHARS

# What went wrong, for `describe(failure, detail, error)`: the detail is the URL (not_http),
# the status code, the declared length (too_large; "" when the stream ran over), or "";
# `error` is the httpx exception of a timeout or transport failure.
Failure = Literal["not_http", "status", "too_large", "timeout", "transport"]
Describe = Callable[[Failure, str, httpx.HTTPError | None], str]
ProgressCallback = Callable[[int, int | None], None]  # (bytes received, declared total)

_HTTP_RATE_LIMITED = 429


def is_http_url(text: str) -> bool:
    parts = urlsplit(text.strip())
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def filename_from_url(url: str) -> str | None:
    """The last path segment of a URL, percent-decoded, control characters dropped and cut
    to Cloudflare's filename limit; None when the path names no file."""
    name = PurePosixPath(unquote(urlsplit(url).path)).name  # decoded first: %2F splits too
    name = "".join(ch for ch in name if ord(ch) >= 0x20)[:MAX_FILENAME_CHARS]
    return name or None


@dataclass(frozen=True, slots=True)
class FetchCodes:
    """The error codes a fetch raises, per kind of failure."""

    unreachable: ErrorCode  # timeouts and connection failures
    overloaded: ErrorCode  # the origin answered 429 or 5xx
    refused: ErrorCode = ErrorCode.BAD_REQUEST  # any other unwanted status
    too_large: ErrorCode = ErrorCode.TOO_LARGE
    only_200: bool = False  # True: any status but 200 is refused (else any below 400 is kept)


@dataclass(frozen=True, slots=True)
class Fetched:
    data: bytes
    final_url: str  # after redirects


async def fetch_capped(
    client: httpx.AsyncClient,
    url: str,
    *,
    cap: int,
    codes: FetchCodes,
    describe: Describe,
    request_timeout: httpx.Timeout | None = None,
    chunk_size: int | None = None,
    on_progress: ProgressCallback | None = None,
) -> Fetched:
    """The bytes at `url`, at most `cap` of them (a declared or an actual excess stops the
    download), following redirects; every failure is an ImagesError."""
    if not is_http_url(url):
        raise ImagesError(ErrorCode.BAD_REQUEST, describe("not_http", url, None))
    per_request = httpx.USE_CLIENT_DEFAULT if request_timeout is None else request_timeout
    try:
        async with client.stream("GET", url, follow_redirects=True, timeout=per_request) as response:
            status = response.status_code
            if status == _HTTP_RATE_LIMITED or status >= 500:
                code = codes.refused if codes.only_200 else codes.overloaded
                raise ImagesError(code, describe("status", str(status), None))
            if status >= 400 or (codes.only_200 and status != 200):
                raise ImagesError(codes.refused, describe("status", str(status), None))
            declared = response.headers.get("content-length")
            total = int(declared) if declared and declared.isdigit() else None
            if total is not None and total > cap:
                raise ImagesError(codes.too_large, describe("too_large", str(total), None))
            parts: list[bytes] = []
            received = 0
            async for chunk in response.aiter_bytes(chunk_size):
                received += len(chunk)
                if received > cap:  # a lying or missing Content-Length
                    raise ImagesError(codes.too_large, describe("too_large", "", None))
                parts.append(chunk)
                if on_progress is not None:
                    on_progress(received, total)
            final_url = str(response.url)
    except httpx.TimeoutException as exc:
        raise ImagesError(codes.unreachable, describe("timeout", "", exc)) from None
    except httpx.HTTPError as exc:
        raise ImagesError(codes.unreachable, describe("transport", "", exc)) from None
    return Fetched(b"".join(parts), final_url)
