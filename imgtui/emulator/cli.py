"""`imgtui serve`: a local Cloudflare Images API over a local library."""

from __future__ import annotations

import argparse
import asyncio
import os
import pathlib
import sys

from imgtui.service import ImagesError
from imgtui.service.config import SERVE_PORT, default_library_path

from .faults import FaultSpec
from .server import is_loopback, serve_forever
from .state import EmulatorState, ServeSettings

TOKEN_ENV = "IMGTUI_API_TOKEN"


def _fault_spec(text: str) -> FaultSpec:
    try:
        return FaultSpec.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _port(text: str) -> int:
    """A TCP port, 0..65535: argparse says what is wrong in one line (bind() would raise)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 0-65535 (0 picks a free one), not {port}")
    return port


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="imgtui serve",
        description="Serve a local image library as the Cloudflare Images REST API (and its image delivery).",
    )
    parser.add_argument(
        "--library",
        type=pathlib.Path,
        default=None,
        help=f"library directory (default: {default_library_path()})",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument(
        "--port",
        type=_port,
        default=SERVE_PORT,
        help=f"port to listen on (default: {SERVE_PORT}, not wrangler dev's 8787; 0 picks a free one)",
    )
    parser.add_argument(
        "--api-token",
        default=None,
        help=f"require 'Authorization: Bearer <token>' on API requests (prefer {TOKEN_ENV}:"
        " a command line is visible to other users)",
    )
    parser.add_argument(
        "--signing-key", default=None, help="key for signed URLs (default: the library's own key)"
    )
    parser.add_argument(
        "--faults",
        type=_fault_spec,
        default=None,
        metavar="SPEC",
        help="misbehave on a share of API requests, e.g. 0.2 or rate=0.2,latency=50ms,seed=1",
    )
    parser.add_argument(
        "--public-url", default=None, help="base URL clients use to reach this server (variant URLs)"
    )
    parser.add_argument(
        "--insecure-no-token",
        action="store_true",
        help="allow listening on a non-loopback address without --api-token (anyone on the network can delete images)",
    )
    parser.add_argument(
        "--allow-private-urls",
        action="store_true",
        default=None,
        help="let `url` uploads fetch private, loopback and link-local addresses even when not"
        " listening on loopback (on loopback they always may)",
    )
    parser.add_argument("--access-log", action="store_true", help="log every request")
    return parser


def _banner(state: EmulatorState, token_from_env: bool) -> str:
    settings = state.settings
    auth = "required (Bearer token)" if settings.api_token else "none"
    # Name where the token is, never the token itself (the banner ends up in terminals and logs).
    if not settings.api_token:
        token = "any-token"
    elif token_from_env:
        token = f"${TOKEN_ENV}"
    else:
        token = "YOUR_TOKEN"  # a placeholder that pastes into a shell as is (`<x>` redirects)
    lines = [
        f"imgtui serve: library {settings.library}",
        f"  API            {state.api_url}",
        f"  delivery       {state.base_url}/cdn-cgi/imagedelivery/{state.account_hash}/<id>/<variant>",
        f"  account hash   {state.account_hash}",
        # The key forges signed URLs for every private image: fetch it, never print it.
        f"  signing key    not shown: GET {state.api_url}/accounts/local/images/v1/keys",
        f"  auth           {auth}",
    ]
    if settings.faults is not None:
        lines.append(f"  faults         {settings.faults.describe()}")
    if settings.access_log:
        lines.append("  access log     on (request lines only, never headers)")
    lines += [
        "",
        "Point a client at it (any account id works). In a shell:",
        f"  export CLOUDFLARE_BASE_URL={state.api_url} CLOUDFLARE_ACCOUNT_ID=local CLOUDFLARE_API_TOKEN={token}",
        "then any of these reads those variables:",
        "  imgtui                              (the TUI)",
        "  Images.cloudflare()                 (Python: from imgtui.service import Images)",
        "  cloudflare.Cloudflare()             (the official Python SDK: list with images.v2.list;",
        "                                       its v1 auto-pagination reads result.items and yields nothing)",
        f"or give the URL yourself: imgtui --endpoint {state.api_url}",
        "Press Ctrl+C to stop.",
    ]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    token_from_env = not args.api_token and bool(os.environ.get(TOKEN_ENV))
    api_token = args.api_token or os.environ.get(TOKEN_ENV) or None
    # Without a token, anyone who can reach the port can read and delete the library: only
    # this machine may, unless the user says otherwise in so many words.
    if not api_token and not is_loopback(args.host) and not args.insecure_no_token:
        print(
            f"imgtui serve: refusing to listen on {args.host} without --api-token "
            f"(or {TOKEN_ENV}); pass --insecure-no-token to do it anyway.",
            file=sys.stderr,
        )
        return 2
    settings = ServeSettings(
        library=args.library or default_library_path(),
        host=args.host,
        port=args.port,
        api_token=api_token,
        signing_key=args.signing_key,
        faults=args.faults,
        public_url=args.public_url,
        access_log=args.access_log,
        allow_private_urls=args.allow_private_urls,
    )

    def on_ready(state: EmulatorState) -> None:
        print(_banner(state, token_from_env), flush=True)

    try:
        asyncio.run(serve_forever(settings, on_ready))
    except OSError as exc:
        print(
            f"imgtui serve: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr
        )
        return 1
    except ImagesError as error:  # the library cannot be served (read-only, damaged, ...)
        print(f"imgtui serve: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0
