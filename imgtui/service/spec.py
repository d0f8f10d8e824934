"""Library specs: one string names a library, for `Images.open(spec)` and command lines.

    local:PATH  or a bare PATH    a local library directory (`~` expanded)
    cf:ACCOUNT_ID                 Cloudflare's API (or CLOUDFLARE_BASE_URL, as Images.cloudflare);
                                  the token comes from CLOUDFLARE_API_TOKEN
    http(s)://HOST:PORT[/PATH]    an `imgtui serve` (or compatible) REST base; `/client/v4`
                                  when no path is given
    wrangler:[DIR]                the images `wrangler dev` stored for a Worker, read-only: DIR
                                  a project folder, its `.wrangler/state`, or that state's
                                  `v3/images` (`~` expanded); the current folder when empty

A spec never carries a credential: a URL with a user or password is refused, and the token
is read from the environment only, so it appears in no spec, repr or message.
"""

from __future__ import annotations

import os
import pathlib
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from .config import ACCOUNT_ENV

SpecKind = Literal["local", "cloudflare", "rest", "wrangler"]

REST_API_PATH = "/client/v4"
# Any account id works against `imgtui serve`; this one says where it came from.
SERVE_ACCOUNT_ID = "imgtui-serve"
_ACCOUNT_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")
_MAX_SPEC_CHARS = 4096
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")


@dataclass(frozen=True, slots=True)
class LibrarySpec:
    """A parsed spec: which backend, and where (a path, an account id or a base URL)."""

    kind: SpecKind
    target: str
    account_id: str | None = None  # rest: the account path segment, when the env names one

    def __str__(self) -> str:
        prefix = {"local": "local:", "cloudflare": "cf:", "rest": "", "wrangler": "wrangler:"}[self.kind]
        return prefix + self.target


def _bad(spec: str, reason: str) -> ValueError:
    shown = spec if len(spec) <= 80 else spec[:79] + "…"
    return ValueError(f"Invalid library spec {shown!r}: {reason}")


def _local(spec: str, path: str) -> LibrarySpec:
    if not path or not path.strip():
        raise _bad(spec, "local: needs a directory path")
    return LibrarySpec("local", str(pathlib.Path(os.path.expanduser(path))))


def _wrangler(path: str) -> LibrarySpec:
    # Blank means "here", as `wrangler dev` itself works in the current project.
    return LibrarySpec("wrangler", str(pathlib.Path(os.path.expanduser(path.strip() or "."))))


def _cloudflare(spec: str, account_id: str) -> LibrarySpec:
    if not _ACCOUNT_ID.fullmatch(account_id):
        raise _bad(spec, "cf: needs a Cloudflare account id (letters, digits, '-' or '_')")
    return LibrarySpec("cloudflare", account_id)


def _rest(spec: str) -> LibrarySpec:
    try:
        parts = urlsplit(spec)
        port = parts.port  # raises ValueError for a port that is not a number in range
    except ValueError as exc:
        raise _bad(spec, f"not a valid URL ({exc})") from None
    if parts.username is not None or parts.password is not None:
        raise _bad(spec, "credentials do not belong in a spec (set CLOUDFLARE_API_TOKEN)")
    if not parts.hostname:
        raise _bad(spec, "the URL has no host")
    if parts.query or parts.fragment:
        raise _bad(spec, "the URL must not have a query or a fragment")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    netloc = host if port is None else f"{host}:{port}"
    path = parts.path.rstrip("/") or REST_API_PATH
    account = os.environ.get(ACCOUNT_ENV) or None
    return LibrarySpec("rest", f"{parts.scheme.lower()}://{netloc}{path}", account_id=account)


def parse_spec(spec: str) -> LibrarySpec:
    """Parse `spec`, or raise ValueError saying what is wrong with it."""
    if not isinstance(spec, str):
        raise TypeError(f"a library spec is a str, not {type(spec).__name__}")
    if not spec.strip():
        raise ValueError("Invalid library spec '': it is empty")
    if len(spec) > _MAX_SPEC_CHARS or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in spec):
        raise _bad(spec, "too long or contains control characters")
    match = _SCHEME.match(spec)
    scheme = match.group(1).lower() if match else None
    if scheme == "local":
        return _local(spec, spec[len("local:") :])
    if scheme == "cf":
        return _cloudflare(spec, spec[len("cf:") :])
    if scheme == "wrangler":
        return _wrangler(spec[len("wrangler:") :])
    if scheme in ("http", "https"):
        return _rest(spec)
    # A one-letter "scheme" is a Windows drive (C:\imgtui); anything else unknown is refused
    # rather than taken for a relative directory called "s3:bucket".
    if scheme is not None and len(scheme) > 1:
        raise _bad(
            spec, f"unknown scheme {scheme!r} (use local:PATH, cf:ACCOUNT_ID, wrangler:DIR or http(s)://HOST)"
        )
    return _local(spec, spec)
