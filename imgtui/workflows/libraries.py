"""Which library a command line names: `--library`, `--wrangler`, `--account-id`,
`--endpoint` and the `CLOUDFLARE_*` variables, decided the way the TUI decides.

`choose_library` is pure (options and an environment in, a `LibraryChoice` out), so the TUI,
the commands and tests share one rule; `open_library` turns the choice into an `Images`.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from imgtui.service import Images
from imgtui.service.config import ACCOUNT_ENV, TOKEN_ENV, default_library_path
from imgtui.service.spec import SERVE_ACCOUNT_ID, parse_spec

# `imgtui serve` on loopback without --api-token accepts any bearer token, but one must be
# sent; this one says where it came from (it is never a secret).
SERVE_PLACEHOLDER_TOKEN = "imgtui-serve-no-token"

ChoiceKind = Literal["local", "cloudflare", "wrangler"]


@dataclass(frozen=True, slots=True)
class LibraryOptions:
    """The library options of a command line (None: not given)."""

    library: Path | None = None
    wrangler: str | None = None  # a project folder or its .wrangler/state
    account_id: str | None = None
    endpoint: str | None = None  # a Cloudflare API base URL, e.g. `imgtui serve`'s


@dataclass(frozen=True, slots=True)
class LibraryChoice:
    kind: ChoiceKind
    target: str  # a directory, or an account id ("" when none is known yet)
    endpoint: str | None = None

    @property
    def spec(self) -> str:
        """The library spec (`Images.open`) naming the same library."""
        prefix = {"local": "local:", "cloudflare": "cf:", "wrangler": "wrangler:"}[self.kind]
        return prefix + self.target


def choose_library(options: LibraryOptions, environ: Mapping[str, str] | None = None) -> LibraryChoice:
    """The library the options name; ValueError when they name two at once."""
    env = os.environ if environ is None else environ
    cloudflare_flags = options.account_id is not None or options.endpoint is not None
    if options.library is not None and (options.wrangler is not None or cloudflare_flags):
        raise ValueError(
            "--library names a local library: it cannot be combined with --wrangler or Cloudflare options"
        )
    if options.wrangler is not None and cloudflare_flags:
        raise ValueError(
            "--wrangler names wrangler dev's local images: it cannot be combined with Cloudflare options"
        )
    if options.wrangler is not None:
        return LibraryChoice("wrangler", options.wrangler)
    if options.library is not None:
        return LibraryChoice("local", str(options.library.expanduser()))
    # As in the TUI: one of the two variables set means the user meant Cloudflare, so a
    # missing one is reported rather than a local library quietly created.
    if cloudflare_flags or env.get(ACCOUNT_ENV) or env.get(TOKEN_ENV):
        return LibraryChoice("cloudflare", options.account_id or env.get(ACCOUNT_ENV) or "", options.endpoint)
    return LibraryChoice("local", str(default_library_path()))


def is_loopback_endpoint(url: str) -> bool:
    """Does `url` point at this machine (localhost, 127.0.0.0/8, ::1), as `imgtui serve` prints?"""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    if host == "localhost" or host.endswith(".localhost"):  # RFC 6761
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def open_library(
    choice: LibraryChoice,
    *,
    api_token: str | None = None,
    environ: Mapping[str, str] | None = None,
    **backend_options: Any,
) -> Images:
    """The service for `choice`. Raises ImagesError (missing credentials) or ValueError (a
    spec the service does not know, e.g. `wrangler:` before that backend is installed).

    A loopback endpoint (`imgtui serve`, as its banner prints it) needs no credentials: a
    missing account id or token is filled with a placeholder rather than refused. Anywhere
    else the real ones are required."""
    if choice.kind == "cloudflare":
        account_id, api_token = account_credentials(choice, api_token, environ)
        if choice.endpoint:
            backend_options = {"base_url": choice.endpoint, **backend_options}
        return Images.cloudflare(account_id, api_token, **backend_options)
    return _open_spec(choice.spec, backend_options)


def account_credentials(
    choice: LibraryChoice, api_token: str | None = None, environ: Mapping[str, str] | None = None
) -> tuple[str | None, str | None]:
    """The account id and token for a Cloudflare `choice` (token: the argument, else
    $CLOUDFLARE_API_TOKEN); on a loopback endpoint (`imgtui serve`) a missing one is a
    placeholder, since serve without --api-token takes any. None: missing, say so."""
    env = os.environ if environ is None else environ
    account_id = choice.target or None
    api_token = api_token or env.get(TOKEN_ENV) or None
    if choice.endpoint and is_loopback_endpoint(choice.endpoint):
        account_id = account_id or SERVE_ACCOUNT_ID
        api_token = api_token or SERVE_PLACEHOLDER_TOKEN
    return account_id, api_token


def _open_spec(spec: str, backend_options: dict[str, Any]) -> Images:
    try:
        return Images.open(spec, **backend_options)
    except ValueError as error:
        if spec.lower().startswith("wrangler:"):
            raise ValueError(f"{error}: the wrangler backend is not available in this imgtui") from None
        raise


def open_spec(spec: str, *, endpoint: str | None = None, **backend_options: Any) -> Images:
    """The library a spec string names (`imgtui cp SRC DST`); `endpoint` redirects `cf:`."""
    if endpoint and not spec.lower().startswith("wrangler:") and parse_spec(spec).kind == "cloudflare":
        return Images.cloudflare(parse_spec(spec).target, base_url=endpoint, **backend_options)
    return _open_spec(spec, backend_options)
