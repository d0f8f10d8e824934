"""Fetching an image from a URL under a byte cap: one fetcher for the upload form's URL
items (workflows/upload_queue.py) and for `imgtui serve`'s upload-by-URL (emulator/ingest.py).

The two callers differ on purpose in how a failure reads and which code it carries: the
client reports an unreachable or overloaded origin as NETWORK, so Retry stays on offer, while
`imgtui serve` answers 5400 as Cloudflare does (https://developers.cloudflare.com/images/storage/upload-images/upload-url/).
So the codes are parameters, and the wording comes from the caller's `describe`.

A server that fetches URLs its clients name must not become their way into its own network
(SSRF): with `allow_address`, every host name is resolved first, every address it resolves
to is checked, the request goes to a checked address (so a second DNS answer cannot swap
it), and redirects are followed by hand, at most `max_redirects`, each target checked again.
"""

from __future__ import annotations

import asyncio
import codecs
import ipaddress
import re
import socket
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.message import Message
from email.utils import collapse_rfc2231_value
from pathlib import PurePosixPath
from typing import Literal
from urllib.parse import unquote, urljoin, urlsplit

import httpx

from .errors import ErrorCode, ImagesError
from .rules import MAX_FILENAME_CHARS, first_unsafe_character

# What went wrong, for `describe(failure, detail, error)`: the detail is the URL (not_http),
# the status code, the declared length (too_large; "" when the stream ran over), the refused
# address (blocked), the redirect limit (redirects), or ""; `error` is the httpx exception of
# a timeout or transport failure. `blocked` and `redirects` happen only to callers that pass
# `allow_address` or `max_redirects`.
Failure = Literal["not_http", "status", "too_large", "timeout", "transport", "blocked", "redirects"]
Describe = Callable[[Failure, str, httpx.HTTPError | None], str]
ProgressCallback = Callable[[int, int | None], None]  # (bytes received, declared total)
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
AddressCheck = Callable[[IPAddress], bool]  # True: this address may be fetched
Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]  # (host, port) -> its addresses

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: the last 32 bits are IPv4
_SHARED = ipaddress.IPv4Network("100.64.0.0/10")  # RFC 6598 carrier-grade NAT
_HTTP_RATE_LIMITED = 429


def is_http_url(text: str) -> bool:
    parts = urlsplit(text.strip())
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


# A Cloudflare delivery URL: /cdn-cgi/imagedelivery/<hash>/<id>/<variant> on any host, or
# /<hash>/<id>/<variant> on imagedelivery.net. Its last segment names a variant ("public"), not
# a file: https://developers.cloudflare.com/images/manage-images/serve-images/
_DELIVERY_PATH = re.compile(r"^/(?:cdn-cgi/imagedelivery/)?[A-Za-z0-9_-]{22}/(?P<id>.+)/[^/]+$")


def filename_from_url(url: str) -> str | None:
    """The last meaningful path segment of a URL, percent-decoded, control characters dropped
    and cut to Cloudflare's filename limit (for a delivery URL the image id's last segment, not
    the variant); None when the path names no file."""
    parts = urlsplit(url)
    path = parts.path
    delivery = _DELIVERY_PATH.match(path)
    if delivery and ("imagedelivery" in parts.netloc or path.startswith("/cdn-cgi/imagedelivery/")):
        path = "/" + delivery.group("id")
    name = PurePosixPath(unquote(path)).name  # decoded first: %2F splits too
    name = _without_controls(name)[:MAX_FILENAME_CHARS]
    return name or None


# A Content-Disposition longer than this is not parsed (a hostile server's megabyte header).
MAX_DISPOSITION_CHARS = 2048


def filename_from_disposition(header: str | None) -> str | None:
    """The file name a `Content-Disposition` answer header gives (RFC 6266: `filename*=` in
    RFC 5987 encoding wins over `filename=`), as a bare name: any folder part dropped, control
    characters dropped, cut to Cloudflare's limit; None when there is none or it is unusable.
    https://developer.mozilla.org/docs/Web/HTTP/Reference/Headers/Content-Disposition"""
    if not header or len(header) > MAX_DISPOSITION_CHARS:
        return None
    message = Message()
    message["content-disposition"] = header
    plain: str | None = None
    extended: str | None = None
    try:
        params = message.get_params([], header="content-disposition")
    except (ValueError, IndexError, TypeError):  # the stdlib parser on a malformed header
        return None
    for key, value in params:
        if key.lower() != "filename":
            continue
        if isinstance(value, tuple):  # filename*=charset'lang'percent-encoded
            charset = value[0] or "us-ascii"
            try:
                codecs.lookup(charset)
                extended = collapse_rfc2231_value(value)
            except (LookupError, ValueError):  # unknown, or a codec like idna that cannot decode
                continue  # not a name we can read
        elif plain is None:
            plain = value
    raw = extended or plain
    if not raw:
        return None
    raw = raw.replace('\\"', '"')  # a quoted-pair the parser left escaped: a quote, not a folder
    name = _without_controls(PurePosixPath(raw.replace("\\", "/")).name)[:MAX_FILENAME_CHARS].strip()
    if name in ("", ".", "..") or first_unsafe_character(name) is not None:
        return None  # a bidi override would fail the upload (5400): the URL's own name instead
    return name


def _without_controls(text: str) -> str:
    """C0, DEL and C1 (the 8-bit CSI too) dropped: a name never carries a terminal escape."""
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cc")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one reaches in the end (mapped, 6to4, Teredo, NAT64)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public_address(address: IPAddress) -> bool:
    """Whether `address` is on the public internet: not private (10/8, 172.16/12, 192.168/16,
    fc00::/7, carrier NAT), link-local (169.254/16, fe80::/10), loopback, unspecified,
    multicast or reserved, also when wrapped in an IPv6 address."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_ipv4(address)
        if inner is not None and not is_public_address(inner):
            return False
    if isinstance(address, ipaddress.IPv4Address) and address in _SHARED:
        return False
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_unspecified
        or address.is_reserved
    )


async def resolve_host(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to (an IP literal is its own answer)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    # sockaddr[0] of an IPv6 link-local answer may carry a scope ("fe80::1%eth0").
    return list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos))


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
    filename: str | None = None  # from the answer's Content-Disposition, when it names one


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
    max_redirects: int | None = None,
    allow_address: AddressCheck | None = None,
    resolve: Resolver = resolve_host,
) -> Fetched:
    """The bytes at `url`, at most `cap` of them (a declared or an actual excess stops the
    download), following redirects; every failure is an ImagesError.

    By default redirects are httpx's (the client's limit). With `max_redirects` they are
    followed by hand up to that many; with `allow_address` every address a host resolves
    to must pass it, for the first URL and each redirect target (else "blocked")."""
    if not is_http_url(url):
        raise ImagesError(ErrorCode.BAD_REQUEST, describe("not_http", url, None))
    by_hand = max_redirects is not None or allow_address is not None
    redirects_left = max_redirects if max_redirects is not None else client.max_redirects
    try:
        while True:
            request = await _request_for(
                client, url, codes, describe, allow_address, resolve, request_timeout
            )
            response = await client.send(request, stream=True, follow_redirects=not by_hand)
            try:
                location = response.headers.get("location")
                if by_hand and response.status_code in _REDIRECTS and location:
                    if redirects_left <= 0:
                        limit = str(max_redirects if max_redirects is not None else client.max_redirects)
                        raise ImagesError(codes.refused, describe("redirects", limit, None))
                    redirects_left -= 1
                    target = urljoin(url, location.strip())
                    if not is_http_url(target):
                        raise ImagesError(ErrorCode.BAD_REQUEST, describe("not_http", target, None))
                    url = target
                    continue
                data = await _read_capped(response, cap, codes, describe, chunk_size, on_progress)
                final_url = url if by_hand else str(response.url)
                disposition = filename_from_disposition(response.headers.get("content-disposition"))
                return Fetched(data, final_url, disposition)
            finally:
                await response.aclose()
    except httpx.TimeoutException as exc:
        raise ImagesError(codes.unreachable, describe("timeout", "", exc)) from None
    except httpx.HTTPError as exc:
        raise ImagesError(codes.unreachable, describe("transport", "", exc)) from None


async def _request_for(
    client: httpx.AsyncClient,
    url: str,
    codes: FetchCodes,
    describe: Describe,
    allow_address: AddressCheck | None,
    resolve: Resolver,
    request_timeout: httpx.Timeout | None,
) -> httpx.Request:
    """The GET for `url`; with `allow_address`, aimed at a checked address of its host, the
    name kept in `Host` (and in TLS's SNI and certificate check)."""
    if allow_address is None:
        return _get(client, httpx.URL(url), {}, {}, request_timeout)
    target = httpx.URL(url)
    host = target.raw_host.decode("ascii")  # IDNA-encoded, IPv6 without brackets
    port = target.port or (443 if target.scheme == "https" else 80)
    try:
        addresses = await resolve(host, port)
    except (OSError, UnicodeError, ValueError) as exc:  # socket.gaierror is an OSError
        raise httpx.ConnectError(f"cannot resolve {host}: {exc}") from None
    refused = [address for address in addresses if not allow_address(address)]
    if refused or not addresses:
        raise ImagesError(codes.refused, describe("blocked", str(refused[0]) if refused else host, None))
    pinned = target.copy_with(host=str(addresses[0]))
    extensions = {"sni_hostname": host} if target.scheme == "https" else {}
    headers = {"Host": target.netloc.decode("ascii")}
    return _get(client, pinned, headers, extensions, request_timeout)


def _get(
    client: httpx.AsyncClient,
    url: httpx.URL,
    headers: dict[str, str],
    extensions: dict[str, str],
    request_timeout: httpx.Timeout | None,
) -> httpx.Request:
    # An image needs no transfer compression, and httpx inflates each received chunk with no
    # limit on its output (64 KiB of gzip can be 64 MiB at once, before the cap is checked):
    # ask for none, and refuse an answer that comes compressed anyway (_read_capped).
    headers = {**headers, "Accept-Encoding": "identity"}
    if request_timeout is None:  # the client's own timeout
        return client.build_request("GET", url, headers=headers, extensions=extensions)
    return client.build_request("GET", url, headers=headers, extensions=extensions, timeout=request_timeout)


async def _read_capped(
    response: httpx.Response,
    cap: int,
    codes: FetchCodes,
    describe: Describe,
    chunk_size: int | None,
    on_progress: ProgressCallback | None,
) -> bytes:
    status = response.status_code
    if status == _HTTP_RATE_LIMITED or status >= 500:
        code = codes.refused if codes.only_200 else codes.overloaded
        raise ImagesError(code, describe("status", str(status), None))
    if status >= 400 or (codes.only_200 and status != 200):
        raise ImagesError(codes.refused, describe("status", str(status), None))
    encoding = response.headers.get("content-encoding", "").strip().lower()
    if encoding not in ("", "identity"):
        error = httpx.DecodingError(f"the answer is {encoding[:40]}-encoded, though none was asked for")
        raise ImagesError(codes.refused, describe("transport", "", error))
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
    return b"".join(parts)
