"""Signed delivery URLs, per Cloudflare's scheme (serve-private-images).

string to sign = pathname + "?" + query without `sig` (so "…/public?exp=1700000000"),
sig = lowercase hex HMAC-SHA256 keyed with the UTF-8 bytes of the key string.

The pathname is taken from the account hash on (`/<hash>/<id>/<variant>`), so a
`/cdn-cgi/imagedelivery` prefix (custom domains, `imgtui serve`) does not change the
signature: the same URL signs alike on imagedelivery.net and on a zone.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

CDN_PREFIX = "/cdn-cgi/imagedelivery"
UPLOAD_PREFIX = "/cdn-cgi/imageupload"  # imgtui serve's direct creator upload URLs


def signing_path(pathname: str) -> str:
    """The part of a delivery pathname that is signed (percent-encoded, as in the URL)."""
    if pathname.startswith(CDN_PREFIX + "/"):
        return pathname[len(CDN_PREFIX) :]
    return pathname


def _signature(key: str, path: str, query: str, *, strip_prefix: bool = True) -> str:
    message = f"{signing_path(path) if strip_prefix else path}?{query}".encode()
    return hmac.new(key.encode("utf-8"), message, hashlib.sha256).hexdigest()


def sign_url(url: str, key: str, *, expires_at: int | None = None) -> str:
    """`url` with `exp` (when given) and `sig` appended."""
    parts = urlsplit(url)
    params = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in ("exp", "sig")]
    if expires_at is not None:
        params.append(("exp", str(int(expires_at))))
    query = urlencode(params)
    sig = _signature(key, parts.path, query)
    signed_query = f"{query}&sig={sig}" if query else f"sig={sig}"
    return urlunsplit((parts.scheme, parts.netloc, parts.path, signed_query, ""))


def signed_expiry(url: str) -> int | None:
    """The `exp` a signed URL carries, if any."""
    exps = [value for name, value in parse_qsl(urlsplit(url).query) if name == "exp"]
    return int(exps[-1]) if exps and exps[-1].isdigit() else None


def check_signature_any(pathname: str, raw_query: str, keys: list[str], *, now: float) -> str | None:
    """None when signed with any of `keys` (deleting a key invalidates its URLs); else the
    reason for the first key. On a custom domain the signed path may also keep its
    `/cdn-cgi/imagedelivery` prefix (Cloudflare's Worker example signs `url.pathname`)."""
    reasons = [check_signature(pathname, raw_query, key, now=now) for key in keys]
    if None in reasons:
        return None
    return reasons[0] if reasons else "Invalid signature"


def check_signature(pathname: str, raw_query: str, key: str, *, now: float) -> str | None:
    """None when the request is validly signed, else the reason Cloudflare's check gives."""
    params = parse_qsl(raw_query, keep_blank_values=True)
    sigs = [v for k, v in params if k == "sig"]
    if not sigs:
        return "Missing signature"
    rest = [(k, v) for k, v in params if k != "sig"]
    query = urlencode(rest)
    given = sigs[-1].lower()
    over_prefix = pathname.startswith(CDN_PREFIX + "/") and hmac.compare_digest(
        given, _signature(key, pathname, query, strip_prefix=False)
    )
    if not over_prefix and not hmac.compare_digest(given, _signature(key, pathname, query)):
        return "Invalid signature"
    exps = [v for k, v in rest if k == "exp"]
    if exps:
        try:
            expires_at = int(exps[-1])
        except ValueError:
            return "Invalid signature"
        if now > expires_at:
            return "Signature expired"
    return None
