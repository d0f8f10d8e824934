"""Upload by `url`: fetch the image with the shared capped fetcher, answering as Cloudflare
does (5400 for any origin failure, 5413 over the cap)."""

from __future__ import annotations

import httpx

from imgtui.service.errors import ErrorCode
from imgtui.service.rules import MAX_UPLOAD_BYTES
from imgtui.service.urls import Failure, FetchCodes, fetch_capped, filename_from_url

__all__ = ["fetch_image", "filename_from_url"]

# Cloudflare answers 5400 whatever the origin did, and takes only a 200.
_CODES = FetchCodes(unreachable=ErrorCode.BAD_REQUEST, overloaded=ErrorCode.BAD_REQUEST, only_200=True)


def _describe(failure: Failure, detail: str, error: httpx.HTTPError | None) -> str:
    if failure == "not_http":
        return "url must be an http or https URL"
    if failure == "too_large":
        return f"Image is larger than {MAX_UPLOAD_BYTES} bytes"
    if failure == "status":
        reason = f"the origin answered HTTP {detail}"
    elif failure == "timeout":
        reason = "the origin did not answer in time"
    else:
        reason = f"{type(error).__name__}: {error}"
    return f"Failed to fetch the image from the URL: {reason}"


async def fetch_image(client: httpx.AsyncClient, url: str) -> bytes:
    """The bytes at `url` (at most MAX_UPLOAD_BYTES), or ImagesError 5400/5413."""
    fetched = await fetch_capped(client, url, cap=MAX_UPLOAD_BYTES, codes=_CODES, describe=_describe)
    return fetched.data
