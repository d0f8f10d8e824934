"""`imgtui cp SRC DST`: copy, back up, migrate (the work is imgtui.workflows.copy)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
from pathlib import Path

from imgtui.common.text import safe_text
from imgtui.service import Images, ImagesError
from imgtui.service.spec import parse_spec
from imgtui.workflows.catalogue_query import QueryError, parse_query
from imgtui.workflows.copy import MAX_JOBS, CopyEvent, IdMap, copy_library
from imgtui.workflows.copy_lost import same_library
from imgtui.workflows.libraries import LibraryChoice, LibraryOptions, choose_library, open_library, open_spec
from imgtui.workflows.profiles import ProfileError, get_profile, read_token_line

from .base import EXIT_FAILED, EXIT_OK, EXIT_USAGE, Command, UsageError, positive_int
from .console import Console

PROFILE_PREFIX = "profile:"

_DONE_WORD = {"copy": "copied", "skip": "skipped", "refuse": "refused", "fail": "failed"}


def configure_cp(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        "A profile of the config file is named as a side, profile:NAME (cp takes no --profile: it "
        "has two sides). Uploads with new ids are journalled in MAP.journal beside --map, so Ctrl-C, "
        "SIGTERM, SIGHUP and even kill -9 lose no entry, and an upload whose answer was lost is looked "
        "for at the destination before it is sent again."
    )
    parser.add_argument(
        "source",
        metavar="SRC",
        help="local:PATH (or a path), cf:ACCOUNT_ID, an imgtui serve URL, wrangler:DIR, profile:NAME",
    )
    parser.add_argument(
        "dest", metavar="DST", help="local:PATH (or a path), cf:ACCOUNT_ID, an imgtui serve URL, profile:NAME"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print what would be copied, skipped or refused"
    )
    parser.add_argument(
        "--map",
        metavar="FILE",
        type=Path,
        help="the id map (CSV, or JSON by extension): old id, new id; MAP.journal beside it while pending",
    )
    parser.add_argument(
        "--jobs", metavar="N", type=positive_int, default=4, help="images in flight (default: 4)"
    )
    parser.add_argument(
        "--query",
        metavar="Q",
        help="copy only what this matches: the language of `imgtui ls --query` (words, creator:NAME, "
        "meta.KEY=VALUE, private, format:png, uploaded>2026-01-01, -word ...)",
    )
    parser.add_argument("--endpoint", metavar="URL", help="API base URL for a cf: spec (e.g. imgtui serve)")
    # Two sides, so one --profile cannot say which: a profile is named as a side instead.
    parser.add_argument("--profile", metavar="NAME", help=argparse.SUPPRESS)


def _profile_choice(name: str, endpoint: str | None) -> tuple[LibraryChoice, str | None]:
    """`profile:NAME`: that profile's library, its token from its token_file. Unlike
    `--profile` on one-library commands, the profile wins over $CLOUDFLARE_ACCOUNT_ID (two
    profiles are two accounts); the environment fills only what it leaves out."""
    try:
        profile = get_profile(name)
        token = read_token_line(profile.token_file) if profile.token_file is not None else None
    except ProfileError as error:
        raise UsageError(str(error)) from None
    options = LibraryOptions(
        library=profile.library,
        account_id=None if profile.library else profile.account_id,
        endpoint=None if profile.library else profile.endpoint or endpoint,
    )
    return choose_library(options), token


def _open(spec: str, endpoint: str | None) -> Images:
    try:
        if spec.lower().startswith(PROFILE_PREFIX):
            choice, token = _profile_choice(spec[len(PROFILE_PREFIX) :], endpoint)
            return open_library(choice, api_token=token)
        return open_spec(spec, endpoint=endpoint)
    except (ValueError, ImagesError) as error:
        raise UsageError(error.message if isinstance(error, ImagesError) else str(error)) from None


def _place(spec: str, endpoint: str | None) -> tuple[str, ...] | None:
    """Where a spec points, to refuse `cp X X` before anything is opened (None: a profile,
    or a spec `_open` will refuse; the account hash check after opening still applies).
    A path is followed to where it leads, and marked "new" when nothing is there yet."""
    try:
        parsed = parse_spec(spec)
    except ValueError:
        return None
    if parsed.kind in ("local", "wrangler"):  # stats: call it in a thread
        path = os.path.realpath(parsed.target)
        return (parsed.kind, path, "old" if os.path.exists(path) else "new")
    if parsed.kind == "cloudflare":
        return ("cf", parsed.target, endpoint or os.environ.get("CLOUDFLARE_BASE_URL") or "")
    return ("rest", parsed.target)


def _plan_line(event: CopyEvent) -> str:
    target = event.target_id or "(new id)"
    reason = f"{event.code} {event.reason}" if event.code else event.reason
    return f"{event.action:<6} {safe_text(event.source_id)} -> {safe_text(target)}  ({safe_text(reason)})"


def _show(event: CopyEvent, console: Console, *, dry_run: bool) -> None:
    console.tally[event.action if dry_run else _DONE_WORD[event.action]] += 1
    if dry_run:
        console.line(_plan_line(event))
    elif event.action in ("fail", "refuse"):
        console.error(event.code or "refused", event.reason, event.source_id, counted=False)
    console.progress(console.summary())


async def run_cp(args: argparse.Namespace, console: Console) -> int:
    if args.jobs > MAX_JOBS:
        raise UsageError(f"--jobs: at most {MAX_JOBS}")
    if args.profile is not None:
        raise UsageError(
            f"name the profile as a side: imgtui cp {PROFILE_PREFIX}{args.profile} DST (or SRC "
            f"{PROFILE_PREFIX}{args.profile})"
        )
    try:
        query = parse_query(args.query or "")
    except QueryError as error:
        console.note(f"imgtui cp: --query: {error}")  # as `ls` says it
        return EXIT_USAGE
    if args.map is not None and not args.map.parent.is_dir():
        raise UsageError(f"--map: no such folder: {args.map.parent}")
    where, dest_where = await asyncio.to_thread(
        lambda: (_place(args.source, args.endpoint), _place(args.dest, args.endpoint))
    )
    if where is not None and where == dest_where:
        raise UsageError("SRC and DST are the same library: nothing to copy")
    new_dest = dest_where is not None and dest_where[0] == "local" and dest_where[2] == "new"
    try:
        id_map = await asyncio.to_thread(IdMap, args.map)  # a big map is read off the loop
    except (ValueError, OSError) as error:
        raise UsageError(f"--map: {error}") from None
    source = _open(args.source, args.endpoint)
    try:
        dest = _open(args.dest, args.endpoint)
    except UsageError:
        await source.aclose()
        raise
    new_ids = 0
    try:
        # Also through two routes (a path and `imgtui serve` over it): each generated-id image
        # would be copied again on every run.
        # (A local destination not made yet is another library: listing it would create it.)
        if not new_dest and await same_library(source, dest):
            raise UsageError(
                "SRC and DST are the same library (the same account hash): copying it onto itself "
                "would duplicate every image with a generated id"
            )
        events = copy_library(
            source,
            dest,
            id_map=id_map,
            query=query,
            jobs=args.jobs,
            dry_run=args.dry_run,
        )
        # Closed (the copies in flight finished or cancelled, the map saved) before the
        # libraries are, also on Ctrl-C.
        async with contextlib.aclosing(events):
            async for event in events:
                _show(event, console, dry_run=args.dry_run)
                if event.action == "copy" and event.target_id != event.source_id:
                    new_ids += 1
    finally:
        try:
            await source.aclose()
            await dest.aclose()
        finally:
            console.end_progress()  # last: it may raise on a terminal SIGHUP closed
    if new_ids and args.map is None:
        console.note(
            f"{new_ids} images got new ids; without --map FILE a re-run cannot tell they were copied"
        )
    console.note(console.summary())
    failed = not args.dry_run and (console.tally["failed"] or console.tally["refused"])
    return EXIT_FAILED if failed else EXIT_OK


COMMANDS = (
    Command("cp", "copy images between libraries (SRC DST specs)", configure_cp, run_cp, uses_library=False),
)
