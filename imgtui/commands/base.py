"""What every command shares: its table entry, the library options, and argument helpers."""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imgtui.service import ErrorCode, Images, ImagesError
from imgtui.service.config import ACCOUNT_ENV, TOKEN_ENV
from imgtui.workflows.libraries import LibraryOptions, choose_library, open_library
from imgtui.workflows.profiles import ProfileError, apply_profile, get_profile, profile_token

from .console import Console

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports it


class UsageError(Exception):
    """Bad usage found after parsing (exit 2), e.g. an option the arguments rule out."""


@dataclass(frozen=True, slots=True)
class Command:
    """One `imgtui NAME` command: how to parse its arguments and how to run it."""

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace, Console], Coroutine[Any, Any, int]]
    uses_library: bool = True  # takes --library/--wrangler/--account-id/--endpoint


def add_library_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "which library",
        f"Default: your Cloudflare account when ${ACCOUNT_ENV} or ${TOKEN_ENV} is set, else the local "
        f"library. The token is read from ${TOKEN_ENV} (or --profile's token_file) only.",
    )
    group.add_argument("--library", metavar="PATH", type=Path, help="a local library directory")
    group.add_argument(
        "--wrangler",
        metavar="DIR",
        nargs="?",
        const=".",
        help="wrangler dev's local images (DIR: a project or its .wrangler/state; default: here)",
    )
    group.add_argument("--account-id", metavar="ID", help=f"Cloudflare account id (default: ${ACCOUNT_ENV})")
    group.add_argument(
        "--endpoint", metavar="URL", help="API base URL, e.g. http://127.0.0.1:8790/client/v4 (imgtui serve)"
    )
    group.add_argument(
        "--profile",
        metavar="NAME",
        help="a [profiles.NAME] table of the config file (options win over it; it wins over CLOUDFLARE_* variables)",
    )


def library_options(args: argparse.Namespace) -> LibraryOptions:
    """The options, with `--profile NAME` filling what they and the environment leave open.
    UsageError for an unusable profile (unknown, a token in the config, a broken file)."""
    options = LibraryOptions(
        library=args.library, wrangler=args.wrangler, account_id=args.account_id, endpoint=args.endpoint
    )
    name = getattr(args, "profile", None)
    if not name:
        return options
    try:
        return apply_profile(options, get_profile(name))
    except ProfileError as error:
        raise UsageError(str(error)) from None


def library_token(args: argparse.Namespace) -> str | None:
    """The token of `--profile NAME`'s token_file (None: no profile or no file there)."""
    name = getattr(args, "profile", None)
    if not name:
        return None
    try:
        return profile_token(get_profile(name))
    except ProfileError as error:
        raise UsageError(str(error)) from None


@asynccontextmanager
async def opened_library(args: argparse.Namespace) -> AsyncIterator[Images]:
    """The library the options name, closed afterwards. UsageError when it cannot be opened
    (two libraries named, missing credentials, an unknown spec such as `wrangler:`)."""
    options = library_options(args)
    token = library_token(args)
    try:
        images = open_library(choose_library(options), api_token=token)
    except (ValueError, ImagesError) as error:
        raise UsageError(error.message if isinstance(error, ImagesError) else str(error)) from None
    try:
        yield images
    finally:
        await images.aclose()


MAX_META_TEXT = 64 * 1024  # room for pretty-printed JSON around 1024 bytes of metadata


def parse_meta(text: str) -> dict[str, Any]:
    """`--meta JSON`: a JSON object, or ImagesError 5400 saying what is wrong. Cloudflare keeps
    at most 1024 bytes of metadata (the service checks that); text far beyond it is refused
    unparsed, and nesting too deep for the parser is a message, not a RecursionError."""
    if len(text) > MAX_META_TEXT:
        raise ImagesError(
            ErrorCode.BAD_REQUEST, f"--meta is {len(text):,} characters: metadata holds 1024 bytes"
        )
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImagesError(ErrorCode.BAD_REQUEST, f"--meta is not valid JSON: {exc}") from None
    except RecursionError:
        raise ImagesError(ErrorCode.BAD_REQUEST, "--meta is nested too deeply") from None
    if not isinstance(value, dict):
        raise ImagesError(ErrorCode.BAD_REQUEST, "--meta must be a JSON object")
    return value


_DURATION_PART = re.compile(r"(\d+)([smhdw])")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> int:
    """Seconds in `3600`, `90s`, `15m`, `2h`, `7d`, `1w` or `1h30m` (argparse type)."""
    value = text.strip().lower()
    if value.isdigit():
        seconds = int(value)
    elif value and _DURATION_PART.sub("", value) == "":
        seconds = sum(int(n) * _SECONDS[unit] for n, unit in _DURATION_PART.findall(value))
    else:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 3600, 90s, 15m, 2h, 7d)")
    if seconds <= 0:
        raise argparse.ArgumentTypeError("a duration must be positive")
    return seconds


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value
