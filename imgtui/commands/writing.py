"""`imgtui put`, `imgtui edit` and `imgtui rm`: change the library."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from imgtui.common.text import safe_text
from imgtui.service import ErrorCode, ImageMetadata, ImagesError
from imgtui.service.urls import is_http_url
from imgtui.workflows.output import image_json, json_text

from .base import EXIT_FAILED, EXIT_OK, Command, UsageError, opened_library, parse_meta
from .console import Console


def configure_put(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sources", metavar="PATH|URL", nargs="+", help="image files or http(s) URLs")
    parser.add_argument("--id", metavar="ID", help="a custom id (one source only)")
    parser.add_argument("--filename", metavar="F", help="the stored filename (one source only)")
    parser.add_argument("--meta", metavar="JSON", help="metadata, a JSON object")
    parser.add_argument("--creator", metavar="C", help="the creator")
    parser.add_argument("--private", action="store_true", help="require signed URLs")
    parser.add_argument("--json", action="store_true", help="the stored image (an array for several)")


def _result_line(image: ImageMetadata) -> str:
    return f"{safe_text(image.id)}  {safe_text(image.filename or '')}"


async def run_put(args: argparse.Namespace, console: Console) -> int:
    if len(args.sources) > 1 and (args.id is not None or args.filename is not None):
        raise UsageError("--id and --filename name one image: give one PATH or URL")
    try:
        metadata = None if args.meta is None else parse_meta(args.meta)
    except ImagesError as error:
        console.error(error.code, error.message)
        return EXIT_FAILED
    options: dict[str, Any] = {
        "id": args.id,
        "filename": args.filename,
        "metadata": metadata,
        "creator": args.creator,
        "require_signed_urls": True if args.private else None,
    }
    # Imported here: httpx costs ~90 ms at start-up, which `ls` of a local library never needs.
    import httpx

    from imgtui.workflows.upload_queue import fetch_remote_image

    stored: list[ImageMetadata] = []
    total = len(args.sources)
    async with opened_library(args) as images, httpx.AsyncClient() as client:
        for n, source in enumerate(args.sources, start=1):
            console.progress(f"put {n}/{total} {safe_text(source)}")
            try:
                if is_http_url(source):
                    data, name = await fetch_remote_image(source, client=client)
                    image = await images.hosted.upload(data, **{**options, "filename": args.filename or name})
                else:
                    image = await images.hosted.upload(Path(source), **options)
            except ImagesError as error:
                console.error(error.code, error.message, source)
                continue
            console.tally["uploaded"] += 1
            stored.append(image)
            if not args.json:
                console.line(_result_line(image))
        console.end_progress()
    if args.json and (stored or total > 1):
        console.line(
            json_text(image_json(stored[0]) if total == 1 else [image_json(i) for i in stored], indent=2)
        )
    return EXIT_OK if len(stored) == total else EXIT_FAILED


def configure_edit(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", metavar="ID")
    parser.add_argument("--meta", metavar="JSON", help="new metadata, a JSON object (replaces the old)")
    parser.add_argument("--creator", metavar="C", help="new creator")
    signed = parser.add_mutually_exclusive_group()
    signed.add_argument("--private", action="store_true", help="require signed URLs")
    signed.add_argument("--public", action="store_true", help="do not require signed URLs")
    parser.add_argument("--json", action="store_true", help="the stored image")


async def run_edit(args: argparse.Namespace, console: Console) -> int:
    if args.meta is None and args.creator is None and not args.private and not args.public:
        raise UsageError("nothing to change: give --meta, --creator, --private or --public")
    try:
        metadata = None if args.meta is None else parse_meta(args.meta)
        async with opened_library(args) as images:
            image = await images.hosted.image(args.id).update(
                metadata=metadata,
                creator=args.creator,
                require_signed_urls=True if args.private else False if args.public else None,
            )
    except ImagesError as error:
        console.error(error.code, error.message, args.id)
        return EXIT_FAILED
    console.line(json_text(image_json(image), indent=2) if args.json else _result_line(image))
    return EXIT_OK


def configure_rm(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ids", metavar="ID", nargs="+")
    parser.add_argument("--yes", action="store_true", help="do not ask (needed when stdin is not a terminal)")


def _confirmed(count: int, console: Console) -> bool:
    if not sys.stdin.isatty():
        raise UsageError("refusing to delete without --yes: stdin is not a terminal")
    console.stderr.write(f"Delete {count} image{'s' if count != 1 else ''} for good? [y/N] ")
    console.stderr.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")


async def run_rm(args: argparse.Namespace, console: Console) -> int:
    if not args.yes and not _confirmed(len(args.ids), console):
        console.note("nothing deleted")
        return EXIT_FAILED
    failed = False
    async with opened_library(args) as images:
        for n, image_id in enumerate(args.ids, start=1):
            console.progress(f"rm {n}/{len(args.ids)}")
            try:
                deleted = await images.hosted.image(image_id).delete()
            except ImagesError as error:
                console.error(error.code, error.message, image_id)
                failed = True
                continue
            if not deleted:
                console.error(ErrorCode.NOT_FOUND, "Image not found", image_id)
                failed = True
                continue
            console.tally["deleted"] += 1
            console.line(f"deleted {safe_text(image_id)}")
        console.end_progress()
    return EXIT_FAILED if failed else EXIT_OK


COMMANDS = (
    Command("put", "upload files or URLs", configure_put, run_put),
    Command("edit", "change an image's metadata, creator or signed-URL flag", configure_edit, run_edit),
    Command("rm", "delete images", configure_rm, run_rm),
)
