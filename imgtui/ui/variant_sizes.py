"""How one image looks in each of the account's variants: pixels and bytes, measured by
fetching each delivery URL the backend offers (on demand only: the details panel's `z`).

Capped on every side, since a delivery URL is outside input: at most MAX_VARIANTS fetched, a
few at a time, each at most Cloudflare's 10 MiB, each within a deadline; the size is read from
the header by the service's sniffer, off the event loop for large answers. A variant that
fails says why and the others still show. No Textual here; httpx loads on first use only.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from imgtui.common.sizes import human_size
from imgtui.service import ErrorCode, ImagesError
from imgtui.service.rules import MAX_UPLOAD_BYTES
from imgtui.service.sniff import sniff_image_async

if TYPE_CHECKING:
    import httpx

MAX_VARIANTS = 12  # Cloudflare allows 100: measuring them all is not "cheap"
CONCURRENCY = 3
FETCH_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class VariantSize:
    name: str
    width: int | None = None
    height: int | None = None
    size: int | None = None
    format: str | None = None
    error: str | None = None

    def describe(self) -> str:
        if self.error is not None:
            return self.error
        parts = [self.format.upper()] if self.format else []
        if self.width and self.height:
            parts.append(f"{self.width}\u00d7{self.height} px")
        if self.size is not None:
            parts.append(human_size(self.size))
        return " · ".join(parts)


def _wording(url: str):
    def describe(failure: str, detail: str, error: object) -> str:
        if failure == "status":
            return f"HTTP {detail}"
        if failure == "too_large":
            return f"larger than {human_size(MAX_UPLOAD_BYTES)}"
        if failure == "timeout":
            return "timed out"
        if failure == "transport":
            return "not reachable (is the delivery server running?)"
        return f"{failure} {detail}".strip()

    return describe


async def measure_one(client: httpx.AsyncClient, name: str, url: str) -> VariantSize:
    from imgtui.service.urls import FetchCodes, fetch_capped

    codes = FetchCodes(unreachable=ErrorCode.NETWORK, overloaded=ErrorCode.NETWORK)
    try:
        fetched = await fetch_capped(client, url, cap=MAX_UPLOAD_BYTES, codes=codes, describe=_wording(url))
        info = await sniff_image_async(fetched.data)
    except ImagesError as error:
        return VariantSize(name, error=error.message)
    return VariantSize(name, info.width, info.height, len(fetched.data), info.format)


async def measure_variants(
    urls: list[tuple[str, str]], *, client: httpx.AsyncClient | None = None
) -> list[VariantSize]:
    """(name, url) pairs measured, in the same order; at most MAX_VARIANTS of them."""
    import httpx

    own = client is None
    http = client or httpx.AsyncClient(timeout=httpx.Timeout(FETCH_SECONDS), follow_redirects=True)
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(name: str, url: str) -> VariantSize:
        async with gate:
            return await measure_one(http, name, url)

    try:
        return list(await asyncio.gather(*(one(name, url) for name, url in urls[:MAX_VARIANTS])))
    finally:
        if own:
            await http.aclose()
