"""Image delivery: `GET /cdn-cgi/imagedelivery/<account hash>/<id>/<variant>`.

The account's named variants and, once enabled in `/images/v1/config`, flexible ones
(`w=400,fit=cover`) are served from the library; resizing runs on a worker thread. Images
that require signed URLs are served only with a valid `sig` (and unexpired `exp`), or through
a variant marked `neverRequireSignedURLs`, and never as flexible variants
(https://developers.cloudflare.com/images/manage-images/serve-images/serve-private-images/).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from urllib.parse import unquote

from PIL import Image
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from imgtui.service.errors import ImagesError
from imgtui.service.signing import CDN_PREFIX, check_signature_any

from .responses import raw_path
from .state import EmulatorState
from .variants import (
    PixelBudget,
    RenderCache,
    TooLargeOutput,
    TooLargeToTransform,
    is_flexible,
    named_spec,
    parse_flexible,
    render,
    with_accept,
)

_SVG = "image/svg+xml"
# Browsers must take the type we send, never guess one (a stored "image" could sniff as HTML).
NOSNIFF = {"X-Content-Type-Options": "nosniff"}
# An SVG opened as a page runs its script and loads what it names: this policy allows only
# inline styles and sandboxes the document (https://developers.cloudflare.com/images/transform-images/
# says Cloudflare sanitises SVGs; we serve the stored bytes and let the browser disarm them).
SVG_POLICY = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox"}


# Renders at once: each holds a stored original (up to 10 MiB) and a worker thread of the
# default executor (~6), which the rest of the server needs too. Within them, PixelBudget
# bounds the pixels in memory: one 100 MP render at a time.
RENDER_SLOTS = 3


# Pillow allocates pixels in blocks of 16 MiB by default. glibc serves blocks under its mmap
# threshold (which grows up to 32 MiB) from per-thread arenas and keeps them once freed, so
# each render thread held on to its largest image: four 100 MP renders one after another on
# different threads peaked at 800 MB instead of 450. Blocks above 32 MiB are always mmapped,
# hence returned on free. (https://pillow.readthedocs.io/en/stable/reference/block_allocator.html)
PILLOW_BLOCK_BYTES = 64 * 1024 * 1024


class Renders:
    """The limits every delivery render goes through (one per app)."""

    def __init__(self, slots: int = RENDER_SLOTS, budget: PixelBudget | None = None) -> None:
        self.slots = asyncio.Semaphore(slots)
        self.budget = budget if budget is not None else PixelBudget()
        if Image.core.get_block_size() < PILLOW_BLOCK_BYTES:  # process-wide; small images unaffected
            Image.core.set_block_size(PILLOW_BLOCK_BYTES)


def safety_headers(content_type: str) -> dict[str, str]:
    """What every image answer (delivery and `/blob`) carries, by its content type."""
    if content_type.split(";")[0].strip().lower() == _SVG:
        return {**NOSNIFF, **SVG_POLICY}
    return dict(NOSNIFF)


def _text(status: int, message: str) -> Response:
    return PlainTextResponse(message, status, headers={"Cache-Control": "no-store", **NOSNIFF})


async def deliver(request: Request) -> Response:
    state: EmulatorState = request.app.state.emulator
    cache: RenderCache = request.app.state.render_cache
    # /cdn-cgi/imagedelivery/<hash>/<id, maybe with '/'>/<variant>, or imagedelivery.net's
    # own form without the prefix: /<hash>/<id>/<variant>
    path = raw_path(request)
    on_prefix = path.startswith(CDN_PREFIX + "/")
    parts = path[len(CDN_PREFIX) + 1 if on_prefix else 1 :].split("/")
    if not on_prefix and parts[0] != state.account_hash:
        return _text(404, "Not Found")
    if len(parts) < 3 or not all(parts):
        return _text(400, "Missing image ID or variant")
    account_hash, image_id, variant = parts[0], unquote("/".join(parts[1:-1])), unquote(parts[-1])
    if account_hash != state.account_hash:
        return _text(404, "Image not found")
    account = state.images.account
    named = None if is_flexible(variant) else await account.variants.get(variant)
    if named is not None:
        spec = named_spec(named)
    elif not is_flexible(variant):
        return _text(404, f"Variant {variant!r} not found")
    elif not (await account.settings.get()).flexible_variants:
        return _text(403, "Flexible variants are not enabled for this account (PATCH /images/v1/config)")
    else:
        try:
            spec = with_accept(parse_flexible(variant), request.headers.get("accept", ""))
        except ImagesError as error:
            return _text(400, error.message)

    image = await state.images.hosted.image(image_id).details()
    if image is None:
        return _text(404, "Image not found")
    if image.require_signed_urls and not (named is not None and named.never_require_signed_urls):
        if spec.flexible:
            return _text(403, "Flexible variants cannot be used with images that require signed URLs")
        keys = [key.value for key in await state.signing_keys()]
        reason = check_signature_any(
            path, request.scope.get("query_string", b"").decode("latin-1"), keys, now=time.time()
        )
        if reason is not None:
            return _text(403, reason)

    uploaded_ms = int(image.uploaded.timestamp() * 1000)
    etag = (
        '"'
        # The variant's definition too: an edited variant must not revalidate the old picture.
        + hashlib.blake2b(
            f"{image_id}\0{uploaded_ms}\0{variant}\0{spec!r}".encode(), digest_size=12
        ).hexdigest()
        + '"'
    )
    headers = {
        "ETag": etag,
        # Revalidate every time: an id can be deleted and uploaded again with new bytes.
        "Cache-Control": ("private" if image.require_signed_urls else "public") + ", no-cache",
    }
    if "f=auto" in variant or "format=auto" in variant:
        headers["Vary"] = "Accept"  # the same URL answers AVIF, WebP or the source's format
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)

    key = (image_id, uploaded_ms, variant, spec)
    rendered = None if spec.original else cache.get(key)
    if rendered is None:
        renders: Renders = request.app.state.renders
        async with renders.slots:  # before the blob is read: a waiting request holds nothing
            found = await state.library.blob(image_id)
            if found is None:  # deleted between the two reads
                return _text(404, "Image not found")
            rendered = (found.data, found.content_type)
            if not spec.original and found.content_type != _SVG:  # SVG is never resized
                try:
                    resized = await asyncio.to_thread(render, found.data, spec, renders.budget)
                except TooLargeToTransform as refused:
                    response = _text(415, refused.message)
                    response.headers["Cf-Resized"] = f"err={refused.code}"
                    return response
                except TooLargeOutput as refused:  # the request's fault, as a bad option is
                    return _text(400, refused.message)
                if resized is not None:
                    rendered = resized
                    cache.put(key, resized)
    body, content_type = rendered
    headers.update(safety_headers(content_type))
    if request.method == "HEAD":
        headers["Content-Length"] = str(len(body))
        return Response(status_code=200, headers=headers, media_type=content_type)
    return Response(body, media_type=content_type, headers=headers)
