"""Who may talk to `imgtui serve`: a request must name this server in `Host`, and a
state-changing one must not come from another site's page.

Without these, any web page the user opens can reach the server through the browser: by DNS
rebinding (a name of the attacker's that resolves to 127.0.0.1, so `Host` is that name) it
reads the signing key and deletes images; a cross-site form POST (which needs no CORS
preflight) uploads. Non-browser clients send no `Origin` and no `Sec-Fetch-Site`, and name
the server in `Host`, so they never notice.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from .responses import CROSS_SITE_REFUSED, HOST_NOT_SERVED, fail

WILDCARD_HOSTS = ("0.0.0.0", "::", "")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# "same-site" is refused too: another port of localhost is the same site, not this server.
_ALLOWED_FETCH_SITES = frozenset({"same-origin", "none"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _split_host(host_header: str) -> tuple[str, int | None] | None:
    """(host name or address without brackets, lowercased; port) of a `Host` value, None when
    it does not parse."""
    try:
        parts = urlsplit(f"//{host_header.strip()}")
        port = parts.port
    except ValueError:
        return None
    hostname = parts.hostname
    if not hostname or parts.username is not None or parts.path or parts.query or parts.fragment:
        return None
    return hostname.rstrip(".").lower(), port


def _ip(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_loopback(host: str) -> bool:
    """Whether listening on `host` reaches only this machine (what bind() would take)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_loopback_name(name: str) -> bool:
    """localhost (RFC 6761: it and its subdomains are loopback) or a loopback address."""
    if name == "localhost" or name.endswith(".localhost"):
        return True
    address = _ip(name)
    return address is not None and address.is_loopback


@dataclass(frozen=True, slots=True)
class HostPolicy:
    """The names this server answers to. Ports are not compared: a forwarded port
    (`ssh -L 9000:localhost:8790`) is still this server, and a rebinding attack changes the
    name, not the port."""

    names: frozenset[str]
    any_address: bool = False  # bound to every interface: any IP literal reaches us directly
    public_origin: str | None = None  # scheme://host[:port] of --public-url

    @classmethod
    def for_server(cls, bound_host: str, base_url: str, public_url: str | None) -> HostPolicy:
        names = {urlsplit(base_url).hostname or ""}
        public_origin = None
        if public_url:
            public = urlsplit(public_url)
            names.add(public.hostname or "")
            public_origin = _origin_key(public.scheme, public.netloc)
        wildcard = bound_host in WILDCARD_HOSTS
        if wildcard:
            # An IP literal cannot be rebound (the browser connects to exactly that address),
            # and neither can this machine's own name.
            names.add(socket.gethostname())
        else:
            names.add(bound_host)
        return cls(
            frozenset(name.strip("[]").rstrip(".").lower() for name in names if name),
            any_address=wildcard,
            public_origin=public_origin,
        )

    def allows_host(self, host_header: str | None) -> bool:
        if host_header is None:  # HTTP/1.0 without Host: no browser sends that
            return True
        split = _split_host(host_header)
        if split is None:
            return False
        name = split[0]
        if name in self.names or is_loopback_name(name):
            return True
        return self.any_address and _ip(name) is not None


def _origin_key(scheme: str, netloc: str) -> str | None:
    """`scheme://host:port` with the default port spelled out, lowercased; None if unparsable."""
    scheme = scheme.lower()
    split = _split_host(netloc)
    if split is None or scheme not in _DEFAULT_PORTS:
        return None
    name, port = split
    host = f"[{name}]" if ":" in name else name
    return f"{scheme}://{host}:{port or _DEFAULT_PORTS[scheme]}"


def is_cross_site(
    method: str, headers: Headers, request_scheme: str, public_origin: str | None
) -> str | None:
    """Why a state-changing request comes from another site's page, or None when it may go on."""
    if method.upper() in SAFE_METHODS:
        return None
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site.strip().lower() not in _ALLOWED_FETCH_SITES:
        return f"Sec-Fetch-Site: {fetch_site.strip()[:40]}"
    origin = headers.get("origin")
    if origin is None:  # not a browser (browsers send Origin on every cross-origin write)
        return None
    parts = urlsplit(origin.strip())
    key = _origin_key(parts.scheme, parts.netloc) if not parts.path.strip("/") else None
    if key is None:  # "null" (sandboxed frames, file: pages) or garbage
        return "an opaque or malformed Origin"
    own = _origin_key(request_scheme, headers.get("host", ""))
    if key in (own, public_origin):
        return None
    return "Origin is another site"


class RequestGuard:
    """ASGI middleware: refuses (421) requests for a `Host` this server is not, and (403)
    state-changing requests from another site, before anything else sees them."""

    def __init__(self, app: ASGIApp, policy: HostPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if not self.policy.allows_host(headers.get("host")):
            message = "This server does not answer for that Host (DNS rebinding?); use its own address"
            await fail(HOST_NOT_SERVED, message, status=421)(scope, receive, send)
            return
        reason = is_cross_site(
            scope["method"], headers, scope.get("scheme", "http"), self.policy.public_origin
        )
        if reason is not None:
            message = f"Cross-site request refused ({reason}): only this server's own pages may change it"
            await fail(CROSS_SITE_REFUSED, message, status=403)(scope, receive, send)
            return
        await self.app(scope, receive, send)
