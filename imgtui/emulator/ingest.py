"""Upload by `url`: fetch the image with the shared capped fetcher, answering as Cloudflare
does (5400 for any origin failure, 5413 over the cap).

The URL is the client's choice, so this server must not fetch into its own network for it
(SSRF): at most MAX_REDIRECTS redirects, each target checked again, and only public
addresses, unless the server is bound to loopback (only this machine can ask) or was told
`--allow-private-urls`."""

from __future__ import annotations

import httpx

from imgtui.service.errors import ErrorCode
from imgtui.service.rules import MAX_UPLOAD_BYTES
from imgtui.service.urls import (
    Failure,
    FetchCodes,
    Resolver,
    fetch_capped,
    filename_from_url,
    is_public_address,
    resolve_host,
)

__all__ = ["fetch_image", "filename_from_url"]

# Cloudflare answers 5400 whatever the origin did, and takes only a 200.
MAX_REDIRECTS = 3
_CODES = FetchCodes(unreachable=ErrorCode.BAD_REQUEST, overloaded=ErrorCode.BAD_REQUEST, only_200=True)


def _describe(failure: Failure, detail: str, error: httpx.HTTPError | None) -> str:
    if failure == "not_http":
        return "url must be an http or https URL"
    if failure == "too_large":
        return f"Image is larger than {MAX_UPLOAD_BYTES} bytes"
    if failure == "blocked":
        return (
            f"Failed to fetch the image from the URL: it leads to {detail}, a private, loopback or"
            " link-local address, which this server does not fetch (see imgtui serve --allow-private-urls)"
        )
    if failure == "redirects":
        return f"Failed to fetch the image from the URL: the origin redirected more than {detail} times"
    if failure == "status":
        reason = f"the origin answered HTTP {detail}"
    elif failure == "timeout":
        reason = "the origin did not answer in time"
    else:
        reason = f"{type(error).__name__}: {error}"
    return f"Failed to fetch the image from the URL: {reason}"


async def fetch_image(
    client: httpx.AsyncClient, url: str, *, private_allowed: bool, resolve: Resolver = resolve_host
) -> tuple[bytes, str | None]:
    """The bytes at `url` (at most MAX_UPLOAD_BYTES) and the file name its Content-Disposition
    gives (or None), or ImagesError 5400/5413."""
    fetched = await fetch_capped(
        client,
        url,
        cap=MAX_UPLOAD_BYTES,
        codes=_CODES,
        describe=_describe,
        max_redirects=MAX_REDIRECTS,
        allow_address=None if private_allowed else is_public_address,
        resolve=resolve,
    )
    return fetched.data, fetched.filename
