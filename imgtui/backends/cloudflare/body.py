"""Reading answer bodies with a cap on their DECOMPRESSED size.

httpx inflates each received chunk in one `zlib` call with no output limit, so a 64 KiB gzip
chunk of zeros becomes ~64 MiB at once, and a 1.7 MiB body 400 MiB. Here the client reads the
raw bytes and inflates them itself, at most `PIECE` bytes per call, counting as it goes: memory
stays within the cap plus one piece whatever the compression ratio.

Only the encodings the client asks for (`ACCEPT_ENCODING`) are decoded; anything else is a
`httpx.DecodingError`, which the backend reports like any unreadable answer.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncGenerator, Iterator

import httpx

from imgtui.service.errors import ErrorCode, ImagesError
from imgtui.service.rules import MAX_UPLOAD_BYTES

from .envelope import host_and_port

ACCEPT_ENCODING = "gzip, deflate"
PIECE = 64 * 1024
# Layers of Content-Encoding decoded: real servers apply one; each layer is a nested
# generator, so a header naming thousands ended in a RecursionError traceback.
MAX_LAYERS = 2
TRAILING_SLACK = 1024  # bytes after the end of a compressed stream that are dropped, not refused

# A Cloudflare API answer is a small JSON envelope; a list page of a few hundred images is
# ~0.5 MiB. Large pages get more room (see `json_cap`).
MAX_JSON_BYTES = 8 * 1024 * 1024
JSON_BYTES_PER_LISTED_IMAGE = 8 * 1024
# Cloudflare stores originals of at most "10 MB"; a third-party report speaks of a 20 MB hard
# limit, so a stored blob is accepted up to twice the documented size, never more.
MAX_BLOB_BYTES = 2 * MAX_UPLOAD_BYTES


def json_cap(listed: int = 0) -> int:
    """The cap for a JSON answer that lists up to `listed` images."""
    return max(MAX_JSON_BYTES, listed * JSON_BYTES_PER_LISTED_IMAGE)


class _Inflater:
    """One gzip or deflate layer, yielding at most PIECE bytes per step."""

    def __init__(self, encoding: str) -> None:
        gzip = encoding in ("gzip", "x-gzip")
        # deflate is meant to be zlib-wrapped, but some servers send it raw: decide on the first bytes.
        self._zlib = zlib.decompressobj(zlib.MAX_WBITS | 16) if gzip else None
        self._head = b""  # deflate: the first bytes, until there are two to look at
        self._trailing = 0  # bytes received after the end of the compressed stream

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._zlib is not None and self._zlib.eof:
            # Past the end, zlib would keep every further byte in `unused_data` (never
            # decoded, so never counted against the cap): count them here and keep none.
            self._trailing += len(data)
            self._refuse_trailing()
            return
        if self._zlib is None:
            self._head += data
            if len(self._head) < 2:
                return
            data, self._head = self._head, b""
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS if _is_zlib_header(data) else -zlib.MAX_WBITS)
        inflater = self._zlib
        while True:
            try:
                piece = inflater.decompress(data, PIECE)
            except zlib.error as exc:
                raise httpx.DecodingError(f"the body does not decompress ({exc})") from None
            if piece:
                yield piece
            data = inflater.unconsumed_tail
            if inflater.eof:
                self._trailing = len(inflater.unused_data)
                self._refuse_trailing()
                return
            if not data and len(piece) < PIECE:
                return

    def _refuse_trailing(self) -> None:
        # A few stray bytes (a newline, padding) are dropped as before; a stream that goes on
        # past its end is not a body.
        if self._trailing > TRAILING_SLACK:
            raise httpx.DecodingError(f"{self._trailing} bytes follow the end of the compressed body")


def _is_zlib_header(data: bytes) -> bool:
    # RFC 1950: CM = 8 in the low nibble, and the first two bytes are a multiple of 31.
    return len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0


def _layers(response: httpx.Response) -> list[_Inflater]:
    """Decoders for `Content-Encoding`, outermost (last applied) first."""
    codings = [part.strip().lower() for part in response.headers.get("content-encoding", "").split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if len(codings) > MAX_LAYERS:
        raise httpx.DecodingError(
            f"the body is encoded {len(codings)} times over; at most {MAX_LAYERS} layers are decoded",
            request=response.request,
        )
    layers: list[_Inflater] = []
    for coding in reversed(codings):
        if coding not in ("gzip", "x-gzip", "deflate"):
            raise httpx.DecodingError(
                f"the body is {coding!r}-encoded, which was not asked for", request=response.request
            )
        layers.append(_Inflater(coding))
    return layers


def _through(layers: list[_Inflater], data: bytes) -> Iterator[bytes]:
    """`data` through every layer, lazily: each piece reaches the caller (and its cap)
    before any layer inflates more, so memory stays within one piece per layer."""
    pieces: Iterator[bytes] = iter((data,))
    for layer in layers:
        pieces = _fed(layer, pieces)
    return (piece for piece in pieces if piece)


def _fed(layer: _Inflater, pieces: Iterator[bytes]) -> Iterator[bytes]:
    for piece in pieces:
        yield from layer.feed(piece)


def too_large(response: httpx.Response, cap: int) -> ImagesError:
    where = f"{response.request.method} {host_and_port(response.request.url)} -> HTTP {response.status_code}"
    return ImagesError(
        ErrorCode.NETWORK,
        f"The answer ({where}) is larger than {cap / 1024 / 1024:g} MiB once decompressed: refused",
    )


async def decoded_chunks(response: httpx.Response, cap: int) -> AsyncGenerator[bytes, None]:
    """The body of a streamed response, decoded, in pieces; ImagesError past `cap` bytes.

    Does not close the response: the caller does (closing unread drops the connection, which
    is what a refused body deserves).
    """
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:  # the encoded size alone is already too much
        raise too_large(response, cap)
    if response.is_stream_consumed:  # read before it reached us (an in-memory test transport)
        if len(response.content) > cap:
            raise too_large(response, cap)
        yield response.content
        return
    layers = _layers(response)
    total = 0
    async for raw in response.aiter_raw():
        for piece in _through(layers, raw):
            total += len(piece)
            if total > cap:
                raise too_large(response, cap)
            yield piece


async def read_capped(response: httpx.Response, cap: int) -> httpx.Response:
    """The streamed `response` read in full (decoded, at most `cap` bytes), as an in-memory
    response that `json()` and `text` work on; the streamed one is closed."""
    try:
        body = b"".join([piece async for piece in decoded_chunks(response, cap)])
    finally:
        await response.aclose()
    headers = httpx.Headers(response.headers)
    for name in ("content-encoding", "content-length", "transfer-encoding"):
        headers.pop(name, None)
    return httpx.Response(response.status_code, headers=headers, content=body, request=response.request)
