"""`imgtui cp SRC DST`: copy, back up, migrate (the work is imgtui.workflows.copy)."""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path

from imgtui.common.text import safe_text
from imgtui.service import Images, ImagesError
from imgtui.workflows.copy import MAX_JOBS, CopyEvent, IdMap, copy_library
from imgtui.workflows.libraries import open_spec
from imgtui.workflows.query import parse_query

from .base import EXIT_FAILED, EXIT_OK, Command, UsageError, positive_int
from .console import Console

_DONE_WORD = {"copy": "copied", "skip": "skipped", "refuse": "refused", "fail": "failed"}


def configure_cp(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", metavar="SRC", help="local:PATH (or a path), cf:ACCOUNT_ID, wrangler:DIR")
    parser.add_argument("dest", metavar="DST", help="local:PATH (or a path), cf:ACCOUNT_ID")
    parser.add_argument(
        "--dry-run", action="store_true", help="print what would be copied, skipped or refused"
    )
    parser.add_argument(
        "--map", metavar="FILE", type=Path, help="the id map (CSV, or JSON by extension): old id, new id"
    )
    parser.add_argument(
        "--jobs", metavar="N", type=positive_int, default=4, help="images in flight (default: 4)"
    )
    parser.add_argument("--query", metavar="Q", help="copy only the images these words match")
    parser.add_argument("--endpoint", metavar="URL", help="API base URL for a cf: spec (e.g. imgtui serve)")


def _open(spec: str, endpoint: str | None) -> Images:
    try:
        return open_spec(spec, endpoint=endpoint)
    except (ValueError, ImagesError) as error:
        raise UsageError(error.message if isinstance(error, ImagesError) else str(error)) from None


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
    if args.map is not None and not args.map.parent.is_dir():
        raise UsageError(f"--map: no such folder: {args.map.parent}")
    try:
        id_map = IdMap(args.map)
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
        events = copy_library(
            source,
            dest,
            id_map=id_map,
            query=parse_query(args.query or ""),
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
        console.end_progress()
        await source.aclose()
        await dest.aclose()
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
